"""Realistic tenant names for simulated platforms: Dutch municipalities and public organisations.

Names are DNS-1123 labels short enough for `nc-<name>` namespaces and `nextcloud-<name>`
buckets. The pool holds plain municipality names first, then organisation-municipality
combinations (`ggd-utrecht`, `bibliotheek-zwolle`), which gives a few thousand unique names;
past that a numeric suffix keeps them unique.
"""

from __future__ import annotations

import random

_MUNICIPALITIES = (
    "amsterdam rotterdam den-haag utrecht eindhoven groningen tilburg almere breda nijmegen "
    "apeldoorn haarlem arnhem enschede amersfoort zaanstad s-hertogenbosch haarlemmermeer "
    "zwolle leiden zoetermeer maastricht dordrecht ede westland alphen-aan-den-rijn alkmaar "
    "emmen delft venlo deventer sittard-geleen helmond oss hilversum heerlen sudwest-fryslan "
    "amstelveen hengelo purmerend roosendaal schiedam lelystad leeuwarden almelo hoorn "
    "gouda vlaardingen assen bergen-op-zoom capelle-aan-den-ijssel veenendaal katwijk "
    "zeist nieuwegein roermond den-helder doetinchem hoogeveen terneuzen kampen woerden "
    "heerhugowaard barneveld houten middelburg harderwijk weert hardenberg zutphen "
    "vlissingen noordoostpolder goes tiel wageningen culemborg meppel steenwijkerland "
    "heusden waalwijk oosterhout bodegraven-reeuwijk krimpenerwaard gooise-meren "
    "stichtse-vecht de-ronde-venen wijk-bij-duurstede vijfheerenlanden zaltbommel "
    "oude-ijsselstreek berkelland winterswijk aalten lochem voorst epe ermelo nunspeet "
    "elburg dronten urk texel schagen hollands-kroon medemblik enkhuizen stede-broec "
    "drechterland koggenland edam-volendam waterland landsmeer oostzaan wormerland "
    "heemskerk beverwijk velsen bloemendaal heemstede zandvoort hillegom lisse "
    "noordwijk teylingen oegstgeest leiderdorp zoeterwoude kaag-en-braassem nieuwkoop "
    "pijnacker-nootdorp midden-delfland maassluis lansingerland rijswijk wassenaar "
    "voorschoten leidschendam-voorburg goeree-overflakkee hoeksche-waard ridderkerk "
    "barendrecht albrandswaard nissewaard voorne-aan-zee molenlanden gorinchem "
    "sliedrecht hendrik-ido-ambacht zwijndrecht papendrecht alblasserdam "
    "hardinxveld-giessendam altena drimmelen moerdijk etten-leur zundert rucphen "
    "halderberge steenbergen woensdrecht tholen schouwen-duiveland veere "
    "noord-beveland reimerswaal kapelle borsele sluis hulst"
)
MUNICIPALITIES = _MUNICIPALITIES.split()

_ORGANISATIONS = (
    "gemeente ggd bibliotheek omgevingsdienst veiligheidsregio sportbedrijf "
    "belastingsamenwerking werkbedrijf jeugdzorg archief museum zorggroep "
    "scholengroep woningstichting regionaal-archief afvalservice stadsbeheer "
    "participatiebedrijf"
)
ORGANISATIONS = _ORGANISATIONS.split()

# A bucket `nextcloud-<name>` must stay within S3's 63 characters.
MAX_NAME_LENGTH = 63 - len("nextcloud-")


def name_pool() -> list[str]:
    """Every distinct generated name, plain municipalities first."""
    combos = [f"{org}-{town}" for org in ORGANISATIONS for town in MUNICIPALITIES]
    return [n for n in MUNICIPALITIES + combos if len(n) <= MAX_NAME_LENGTH]


def tenant_names(count: int, seed: int = 0) -> list[str]:
    """`count` unique, realistic tenant names, the same for the same seed."""
    rng = random.Random(seed)
    plain = list(MUNICIPALITIES)
    rng.shuffle(plain)
    combos = name_pool()[len(MUNICIPALITIES) :]
    rng.shuffle(combos)
    pool = plain + combos
    if count <= len(pool):
        return pool[:count]
    names = list(pool)
    round_ = 2
    while len(names) < count:
        for base in pool:
            name = f"{base[: MAX_NAME_LENGTH - 4]}-{round_}"
            names.append(name)
            if len(names) == count:
                break
        round_ += 1
    return names
