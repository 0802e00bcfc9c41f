# The reference server under the `workerd` npm package, locally:
#   npm run start:workerd
# which bundles worker.ts into dist/worker.js (git-ignored) and serves it on 127.0.0.1:8000 with
# this config. Settings are text bindings: add any variable of docs/deploy.md.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .herald)],
  sockets = [(name = "http", address = "127.0.0.1:8000", http = (), service = "main")],
);

const herald :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2026-11-01",
  compatibilityFlags = ["enable_request_signal"],
  bindings = [
    # Loopback only: dev mode gives the page a token cookie and the (public) dev publisher key.
    (name = "HERALD_DEV_MODE", text = "true"),
  ],
);
