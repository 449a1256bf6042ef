// Package buildinfo says which build of pleskgate is running, for the
// binaries' --version.
//
// `make build` and the Dockerfile stamp the version and commit with
// -ldflags "-X …/buildinfo.version=… -X …/buildinfo.commit=…"; a plain
// `go build` or `go install` leaves them empty, and the Go toolchain's own
// record (runtime/debug.ReadBuildInfo: the module version and the VCS
// revision) fills them in.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by the linker (-X); empty otherwise.
var version, commit string

// Info is one build's identity.
type Info struct {
	Version   string // e.g. v1.2.0, v1.2.0-3-gabc1234-dirty, or "(devel)"
	Commit    string // VCS revision, "unknown" when nothing recorded it
	GoVersion string // the toolchain that built the binary, e.g. go1.26.8
}

// Get returns the running binary's build identity.
func Get() Info {
	return resolve(version, commit, debug.ReadBuildInfo)
}

func resolve(version, commit string, read func() (*debug.BuildInfo, bool)) Info {
	in := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if bi, ok := read(); ok {
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
		if in.Version == "" {
			in.Version = bi.Main.Version
		}
		if in.Commit == "" {
			var rev, modified string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value
				}
			}
			if rev != "" && modified == "true" {
				rev += "-dirty"
			}
			in.Commit = rev
		}
	}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	return in
}

// String is the line --version prints: "pleskgate v1.2.0 (commit abc1234, go1.26.8)".
func (in Info) String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, %s)", program, in.Version, in.Commit, in.GoVersion)
}
