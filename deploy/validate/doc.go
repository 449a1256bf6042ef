// Package validate checks pleskgate's deployment files offline: the Dockerfile,
// the kustomize overlays under deploy/kubernetes and deploy/docker-compose.yml.
// It is its own module so that Kubernetes' and kustomize's dependencies stay
// out of the gateway's go.mod. Run it with `cd deploy/validate && go test ./...`.
package validate
