// Package deploy holds no code: it is where tsgate is packaged and run —
// the container image (../Dockerfile), Kubernetes manifests
// (kubernetes/), the Grafana dashboard (grafana/) — and its tests check
// them against the real thing: the Dockerfile's build steps run and its
// instructions match tsgate's defaults; every manifest decodes strictly
// into the Kubernetes API types and its probes, ports and grace period
// match gateway.Default(); every series the dashboard plots is in a
// running gateway's /metrics.
package deploy
