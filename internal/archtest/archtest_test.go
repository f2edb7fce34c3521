package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A rule forbids the packages matching from to depend, directly or
// transitively, on any package matching one of forbid.
//
// Patterns are relative to the module ("storage/...", "clock") unless their
// first element holds a dot ("github.com/libp2p/..."). "x/..." matches x
// and every package below it; "..." matches every package of the module.
// A package never breaks its rule by depending on a package that from also
// matches (storage/sqlite may import storage).
type rule struct {
	from   string
	forbid []string
	why    string
}

// rules is the dependency table of DESIGN.md ("Layout"): types, clock ←
// keys, genesis ← consensus, chain, storage, network, l1 ← node ← nodetest,
// examples. Patterns for packages that do not exist yet (l1) hold the line
// for when they arrive.
var rules = []rule{
	{
		from:   "types/...",
		forbid: []string{"..."},
		why:    "types is pure data and encoding: it imports nothing of the module",
	},
	{
		from:   "clock/...",
		forbid: []string{"..."},
		why:    "clock is a leaf: it imports nothing of the module",
	},
	{
		from: "keys/...",
		forbid: []string{"consensus/...", "chain/...", "storage/...", "network/...", "node/...", "nodetest/...", "examples/...",
			"github.com/libp2p/..."},
		why: "keys sits below consensus, chain, storage, network and node; the libp2p identity derived from a " +
			"staking key lives in network/p2p (keys only provides StakingKey.DeriveSeed)",
	},
	{
		from:   "genesis/...",
		forbid: []string{"consensus/...", "chain/...", "storage/...", "network/...", "node/...", "nodetest/...", "examples/..."},
		why:    "genesis sits below consensus, chain, storage, network and node",
	},
	{
		from: "consensus/...",
		forbid: []string{"chain/...", "storage/...", "network/...", "l1/...", "node/...", "nodetest/...", "examples/...",
			"github.com/libp2p/..."},
		why: "consensus is a deterministic state machine: it emits what to persist and send, " +
			"and reaches the application only through injected interfaces",
	},
	{
		from:   "storage/...",
		forbid: []string{"consensus/...", "network/...", "node/...", "nodetest/...", "examples/..."},
		why:    "storage keeps types values and opaque bytes; node binds it to consensus",
	},
	{
		from:   "network/...",
		forbid: []string{"consensus/...", "storage/...", "node/...", "nodetest/...", "examples/..."},
		why:    "network moves bytes: it never decodes consensus messages or stores anything",
	},
	{
		from: "api/...",
		forbid: []string{"node/...", "nodetest/...", "examples/...", "storage/mem/...", "storage/fs/...", "storage/sqlite/...",
			"storage/postgres/...", "network/..."},
		why: "api reads a node through its Backend interface, which node implements; it never imports node or a backend",
	},
	{
		from:   "lightclient/...",
		forbid: []string{"consensus/...", "chain/...", "storage/...", "network/...", "node/...", "api/...", "nodetest/...", "examples/..."},
		why:    "lightclient is the signed state's data and checks, shared by node, api and the relay",
	},
	{
		from: "node/...",
		forbid: []string{"storage/mem/...", "storage/fs/...", "storage/sqlite/...", "storage/postgres/...",
			"network/memnet/...", "network/p2p/...", "nodetest/...", "examples/..."},
		why: "the library never picks a concrete backend: only examples/ (and users) do",
	},
}

// An exception tolerates, for the packages matching from, a dependency on
// the packages matching dep that goes through one of via: the search does
// not look past a via package, and a via package that itself matches dep is
// allowed. A dependency on dep that avoids every via package still fails.
type exception struct {
	from string
	dep  string
	via  []string
	why  string
}

// exceptions are the known breaks of the rules, each with the reason it is
// tolerated for now. The test fails when one is no longer needed: delete it
// then.
var exceptions = []exception{
	{
		from: "storage/storagetest",
		dep:  "consensus/...",
		via:  []string{"chain"},
		why: "the test chains take their payload commitments from chain (chain.PayloadCommitment), " +
			"and chain imports consensus to implement consensus.BlockBuilder and consensus.Validator",
	},
}

// pkg is one package of `go list -deps -json` output.
type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
	DepOnly    bool
}

// graph is the non-test import graph of the module's packages and their
// dependencies.
type graph struct {
	module string
	pkgs   map[string]*pkg
	own    []string // the module's packages, sorted
}

// TestDependencyRules checks every package of the module against rules.
func TestDependencyRules(t *testing.T) {
	g := loadGraph(t)
	for _, r := range rules {
		from := g.matching(r.from)
		if len(from) == 0 {
			t.Errorf("rule for %q matches no package of the module (renamed? fix the table)", r.from)
		}
		for _, p := range from {
			for _, f := range r.forbid {
				var via []string
				for _, ex := range exceptions {
					if ex.dep == f && g.match(ex.from, p) {
						via = append(via, ex.via...)
					}
				}
				for _, chain := range g.reach(p, f, r.from, via) {
					dep := chain[len(chain)-1]
					t.Errorf("%s depends on %s (rule: %s must not depend on %s; %s)\n\timport chain: %s",
						g.rel(p), g.rel(dep), r.from, f, r.why, g.render(chain))
				}
			}
		}
	}
}

// TestExceptionsStillNeeded fails for an exception that no longer excuses
// anything, or that excuses a dependency no rule forbids.
func TestExceptionsStillNeeded(t *testing.T) {
	g := loadGraph(t)
	for _, ex := range exceptions {
		ruled := false
		for _, r := range rules {
			if slices.Contains(r.forbid, ex.dep) && slices.ContainsFunc(g.matching(ex.from), func(p string) bool { return g.match(r.from, p) }) {
				ruled = true
			}
		}
		if !ruled {
			t.Errorf("exception %s → %s: no rule forbids that dependency (delete the exception)", ex.from, ex.dep)
			continue
		}
		used := false
		for _, p := range g.matching(ex.from) {
			if len(g.reach(p, ex.dep, ex.from, nil)) > 0 {
				used = true
			}
		}
		if !used {
			t.Errorf("exception %s → %s (via %s) is no longer needed: delete it from exceptions", ex.from, ex.dep, strings.Join(ex.via, ", "))
		}
	}
}

// TestMatch pins the pattern grammar the table relies on.
func TestMatch(t *testing.T) {
	g := &graph{module: "example.com/m"}
	for _, tt := range []struct {
		pattern, path string
		want          bool
	}{
		{"...", "example.com/m/types", true},
		{"...", "github.com/libp2p/go-libp2p", false},
		{"storage/...", "example.com/m/storage", true},
		{"storage/...", "example.com/m/storage/mem", true},
		{"storage/...", "example.com/m/storagex", false},
		{"storage/mem/...", "example.com/m/storage", false},
		{"node", "example.com/m/node", true},
		{"node", "example.com/m/node/persist", false},
		{"github.com/libp2p/...", "github.com/libp2p/go-libp2p/core/peer", true},
		{"github.com/libp2p/...", "example.com/m/github.com/libp2p/x", false},
		{"types/...", "example.com/m2/types", false},
	} {
		if got := g.match(tt.pattern, tt.path); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

// loadGraph runs `go list -deps -json ./...` at the module root. Without
// -test, Imports lists the imports of non-test files only.
func loadGraph(t *testing.T) *graph {
	t.Helper()
	root, module := moduleRoot(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the dependency graph: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-json=ImportPath,Imports,Standard,DepOnly", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -json ./... in %s: %v\n%s", root, err, stderr.Bytes())
	}
	g := &graph{module: module, pkgs: make(map[string]*pkg)}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(pkg)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		g.pkgs[p.ImportPath] = p
		if !p.DepOnly && g.match("...", p.ImportPath) {
			g.own = append(g.own, p.ImportPath)
		}
	}
	slices.Sort(g.own)
	if len(g.own) == 0 {
		t.Fatalf("go list found no package of module %s in %s", module, root)
	}
	return g
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod and returns it with the module path go.mod declares.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
					return dir, strings.Trim(strings.TrimSpace(rest), `"`)
				}
			}
			t.Fatalf("%s: no module line (%v)", f.Name(), sc.Err())
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}

// isExternal reports whether pattern names packages outside the module:
// its first element holds a dot, as a domain name does.
func isExternal(pattern string) bool {
	first, _, _ := strings.Cut(pattern, "/")
	return first != "..." && strings.Contains(first, ".")
}

// match reports whether the import path matches pattern (see rule).
func (g *graph) match(pattern, path string) bool {
	if !isExternal(pattern) {
		if !strings.HasPrefix(path, g.module+"/") {
			return false
		}
		if pattern == "..." {
			return true
		}
		pattern = g.module + "/" + pattern
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

// matching returns the module's packages that match pattern, sorted.
func (g *graph) matching(pattern string) []string {
	var out []string
	for _, p := range g.own {
		if g.match(pattern, p) {
			out = append(out, p)
		}
	}
	return out
}

// reach returns, for every package matching forbid that from depends on,
// the shortest import chain from from to it. The search does not look past
// a package it reports (what that package imports is its consequence), nor
// past a package matching a pattern of via, which is not reported either.
// Packages matching own are never reported.
func (g *graph) reach(from, forbid, own string, via []string) [][]string {
	isVia := func(p string) bool {
		return slices.ContainsFunc(via, func(v string) bool { return g.match(v, p) })
	}
	parent := map[string]string{from: ""}
	queue := []string{from}
	var found [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p != from && g.match(forbid, p) && !g.match(own, p) && !isVia(p) {
			var chain []string
			for q := p; q != ""; q = parent[q] {
				chain = append(chain, q)
			}
			slices.Reverse(chain)
			found = append(found, chain)
			continue
		}
		if p != from && isVia(p) {
			continue
		}
		node := g.pkgs[p]
		if node == nil {
			continue
		}
		for _, imp := range node.Imports {
			if dep := g.pkgs[imp]; dep != nil && dep.Standard {
				continue
			}
			if _, seen := parent[imp]; !seen {
				parent[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return found
}

// rel shortens a path of the module to its module-relative form.
func (g *graph) rel(path string) string {
	if r, ok := strings.CutPrefix(path, g.module+"/"); ok {
		return r
	}
	return path
}

// render prints an import chain with module-relative names.
func (g *graph) render(chain []string) string {
	parts := make([]string, len(chain))
	for i, p := range chain {
		parts[i] = g.rel(p)
	}
	return strings.Join(parts, " → ")
}
