"""The simulated cluster's controllers: what makes stored objects behave like a real cluster's.

All of them run in the API server's event loop (the `Store` is used from that thread only) and
react to store changes through `Store.subscribe`, coalescing bursts with `Reconciler`:
- `deployments.DeploymentController`: Deployments own their pods and report rollout status;
- `kubelet.Kubelet`: pods get scheduled, pull, start, become ready or crash-loop; exec, logs;
- `argocd.ArgoCdController`: Applications follow the platform repo's HEAD and run operations;
- `appset.RollingSyncController`: the ApplicationSet's RollingSync steps;
- `externalsecrets.ExternalSecretsController`: ExternalSecrets become Ready with their Secret;
- `events.EventRecorder`: core/v1 Events as the real components write them.
"""
