"""Kept-alive probe connections: reused per (address, TLS name) only, replaced when the server
closed them (a new handshake: sessions are not kept, see probes/connections.py), the number
kept bounded. Against real local
HTTPS servers (tests/probes/servers.py)."""

from __future__ import annotations

import ssl
import time

import pytest
import trustme

from ncconsole.probes.connections import ConnectFailed, HttpPool
from tests.probes.servers import ServerThread

pytestmark = pytest.mark.timeout(20)
NAMES = ("a.nc.test", "b.nc.test")


def respond(method, path, headers):
    return 200, {"Content-Type": "application/json"}, b'{"host": "%s"}' % headers["host"].encode()


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def server_context(ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*NAMES).configure_cert(context)
    return context


def client_context(ca):
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def get(pool, server, name):
    return pool.request(
        "GET", ("127.0.0.1", server.port), "/status.php", server_name=name, headers={"Host": name}
    )


def test_each_name_keeps_its_own_connection_and_reuses_it(ca):
    with ServerThread(respond, server_context(ca), keep_alive=True) as server:
        pool = HttpPool(client_context(ca), timeout=5.0, max_idle=10)
        for name in ("a.nc.test", "a.nc.test", "b.nc.test", "b.nc.test", "a.nc.test"):
            answer = get(pool, server, name)
            assert answer.status == 200 and answer.body == b'{"host": "%s"}' % name.encode()
        ports = [address for address, _ in server.connections]
        # a, a, b, b, a: two connections, each carrying only its own name's requests.
        assert ports[0] == ports[1] == ports[4] and ports[2] == ports[3] != ports[0]
        assert (pool.opened, pool.reused, pool.kept) == (2, 3, 2)
        pool.close()


def test_a_connection_the_server_closed_is_replaced_by_a_new_handshake(ca):
    """No TLS session is offered again: reading SSLSocket.session grew native memory without
    end when tenants outnumber the kept connections (benchmarks/RESULTS.md)."""
    with ServerThread(respond, server_context(ca), keep_alive=True, idle_timeout=0.2) as server:
        pool = HttpPool(client_context(ca), timeout=5.0, max_idle=10)
        assert get(pool, server, "a.nc.test").status == 200
        time.sleep(0.6)  # the server drops the idle connection
        assert get(pool, server, "a.nc.test").status == 200
        (first, first_resumed), (second, second_resumed) = server.connections
        assert first != second and pool.opened == 2
        assert not first_resumed and not second_resumed
        pool.close()


def test_the_number_of_kept_connections_is_bounded(ca):
    with ServerThread(respond, server_context(ca), keep_alive=True) as server:
        pool = HttpPool(client_context(ca), timeout=5.0, max_idle=1)
        for name in ("a.nc.test", "b.nc.test", "a.nc.test", "b.nc.test"):
            assert get(pool, server, name).status == 200
        assert pool.kept == 1
        # a kept its connection; b, over the budget, connected each time.
        assert (pool.opened, pool.reused) == (3, 1)
        pool.close()


def test_a_server_that_closes_after_each_answer_is_not_reused(ca):
    with ServerThread(respond, server_context(ca)) as server:  # HTTP/1.0
        pool = HttpPool(client_context(ca), timeout=5.0, max_idle=10)
        for _ in range(3):
            assert get(pool, server, "a.nc.test").status == 200
        assert (pool.opened, pool.kept) == (3, 0)


def test_the_certificate_is_checked_for_each_name(ca):
    with ServerThread(respond, server_context(ca), keep_alive=True) as server:
        pool = HttpPool(client_context(ca), timeout=5.0, max_idle=10)
        assert get(pool, server, "a.nc.test").status == 200
        # A name the certificate does not cover never rides on a.nc.test's connection.
        with pytest.raises(ConnectFailed) as failed:
            get(pool, server, "other.example.org")
        assert isinstance(failed.value.cause, ssl.SSLCertVerificationError)
        pool.close()
