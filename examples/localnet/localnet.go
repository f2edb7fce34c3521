package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gospresso/gospresso/examples/internal/keytool"
)

// Config describes a local network.
type Config struct {
	// Nodes is the number of sequencer processes (at least 4 for f = 1).
	Nodes int
	// Dir holds keys, the genesis file, stores, logs and built binaries.
	Dir string
	// Bin is where the sequencer, orchestrator and state-relay-server
	// binaries are; "" builds them into Dir/bin with the go command.
	Bin string
	// ViewTimeout is the orchestrator's next view timeout.
	ViewTimeout time.Duration
	// Seed derives every node's keys (64 hex digits).
	Seed string
	// Modules gives node i its module list (the words after the global
	// options, without the "--" separators); nil uses the demo's shapes
	// (see moduleSets). eventsPort is a free port for hotshot-events.
	Modules func(i, eventsPort int) []string
	// Log receives what localnet says about the network.
	Log io.Writer
}

// proc is one child process.
type proc struct {
	name string
	path string
	args []string
	env  []string
	log  string // its output file

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Net is a running local network: an orchestrator, a state relay and the
// sequencer processes, all on 127.0.0.1.
type Net struct {
	cfg          Config
	orchestrator *proc
	relay        *proc
	nodes        []*proc
	// APIURLs are the nodes' HTTP API base URLs, in node order.
	APIURLs []string
	// Modules are the module sets of the nodes, as given on their command
	// lines.
	Modules [][]string
}

// moduleSets gives node i its modules, shaped after the reference demo:
// node 0 SQL (SQLite) with query, hotshot-events and config; node 1 SQL
// with query; node 2 without query (a lightweight node, consensus data
// only, in file-system storage); the rest file-system storage with query. Every node also has submit and status,
// so a client can use any of them.
func moduleSets(i int, eventsPort int) []string {
	switch i {
	case 0:
		return []string{"storage-sql", "http", "query", "submit", "status", "hotshot-events", "--events-service-port", strconv.Itoa(eventsPort), "config"}
	case 1:
		return []string{"storage-sql", "http", "query", "submit", "status"}
	case 2:
		return []string{"storage-fs", "http", "submit", "status"}
	default:
		return []string{"storage-fs", "http", "query", "submit", "status"}
	}
}

// Start builds what is missing and starts the network. It returns once
// every process runs; use WaitForHeight to know it decides.
func Start(ctx context.Context, cfg Config) (_ *Net, err error) {
	if cfg.Nodes < 1 {
		return nil, fmt.Errorf("localnet: %d nodes, want at least 1", cfg.Nodes)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	if cfg.Bin == "" {
		cfg.Bin = filepath.Join(cfg.Dir, "bin")
		if err := build(ctx, cfg.Bin, cfg.Log); err != nil {
			return nil, err
		}
	}
	keyDir := filepath.Join(cfg.Dir, "keys")
	if _, err := os.Stat(filepath.Join(keyDir, "0.env")); errors.Is(err, os.ErrNotExist) {
		var out bytes.Buffer
		if err := keytool.Keygen([]string{"-o", keyDir, "-n", strconv.Itoa(cfg.Nodes), "-s", cfg.Seed}, &out, &out); err != nil {
			return nil, fmt.Errorf("localnet: keygen: %w", err)
		}
	}
	genesisFile := filepath.Join(cfg.Dir, "genesis.toml")
	if err := os.WriteFile(genesisFile, []byte(genesisTOML), 0o644); err != nil {
		return nil, err
	}

	n := &Net{cfg: cfg}
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()
	orchPort, err := freeTCP()
	if err != nil {
		return nil, err
	}
	n.orchestrator = &proc{name: "orchestrator", path: filepath.Join(cfg.Bin, "orchestrator"),
		env: []string{
			"ESPRESSO_ORCHESTRATOR_PORT=" + strconv.Itoa(orchPort),
			"ESPRESSO_ORCHESTRATOR_NUM_NODES=" + strconv.Itoa(cfg.Nodes),
			"ESPRESSO_ORCHESTRATOR_START_DELAY=1s",
			"ESPRESSO_ORCHESTRATOR_START_THRESHOLD=1:1",
			"ESPRESSO_ORCHESTRATOR_NEXT_VIEW_TIMEOUT=" + cfg.ViewTimeout.String(),
			"ESPRESSO_ORCHESTRATOR_BUILDER_TIMEOUT=100ms",
		}}
	relayPort, err := freeTCP()
	if err != nil {
		return nil, err
	}
	n.relay = &proc{name: "state-relay-server", path: filepath.Join(cfg.Bin, "state-relay-server"),
		env: []string{"ESPRESSO_STATE_RELAY_SERVER_PORT=" + strconv.Itoa(relayPort), "ESPRESSO_STATE_SIGNATURE_TOTAL_STAKE=" + strconv.Itoa(cfg.Nodes)}}
	for _, p := range []*proc{n.orchestrator, n.relay} {
		p.log = filepath.Join(cfg.Dir, p.name+".log")
		if err := p.start(); err != nil {
			return nil, err
		}
	}
	orchURL := fmt.Sprintf("http://127.0.0.1:%d", orchPort)
	relayURL := fmt.Sprintf("http://127.0.0.1:%d", relayPort)
	for _, u := range []string{orchURL, relayURL} {
		if err := waitHealthy(ctx, u+"/healthcheck", 30*time.Second); err != nil {
			return nil, err
		}
	}

	for i := range cfg.Nodes {
		apiPort, err := freeTCP()
		if err != nil {
			return nil, err
		}
		eventsPort, err := freeTCP()
		if err != nil {
			return nil, err
		}
		p2pPort, err := freeUDP()
		if err != nil {
			return nil, err
		}
		url := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
		mods := moduleSets(i, eventsPort)
		if cfg.Modules != nil {
			mods = cfg.Modules(i, eventsPort)
		}
		env := []string{
			"ESPRESSO_SEQUENCER_GENESIS_FILE=" + genesisFile,
			"ESPRESSO_SEQUENCER_KEY_FILE=" + filepath.Join(keyDir, fmt.Sprintf("%d.env", i)),
			"ESPRESSO_SEQUENCER_ORCHESTRATOR_URL=" + orchURL,
			"ESPRESSO_STATE_RELAY_SERVER_URL=" + relayURL,
			"ESPRESSO_SEQUENCER_LIBP2P_BIND_ADDRESS=127.0.0.1:" + strconv.Itoa(p2pPort),
			"ESPRESSO_SEQUENCER_LIBP2P_ADVERTISE_ADDRESS=127.0.0.1:" + strconv.Itoa(p2pPort),
			"ESPRESSO_SEQUENCER_API_PORT=" + strconv.Itoa(apiPort),
			"ESPRESSO_SEQUENCER_STORAGE_PATH=" + filepath.Join(cfg.Dir, fmt.Sprintf("store-%d", i)),
			"ESPRESSO_SEQUENCER_IS_DA=true",
			"RUST_LOG=info",
		}
		if i > 0 {
			env = append(env, "ESPRESSO_SEQUENCER_API_PEERS="+n.APIURLs[i-1])
		}
		var args []string
		for _, m := range mods {
			if !strings.HasPrefix(m, "--") && !isNumber(m) {
				args = append(args, "--")
			}
			args = append(args, m)
		}
		p := &proc{name: fmt.Sprintf("sequencer%d", i), path: filepath.Join(cfg.Bin, "sequencer"), args: args, env: env,
			log: filepath.Join(cfg.Dir, fmt.Sprintf("sequencer%d.log", i))}
		n.nodes = append(n.nodes, p)
		n.APIURLs = append(n.APIURLs, url)
		n.Modules = append(n.Modules, mods)
		if err := p.start(); err != nil {
			return nil, err
		}
	}
	for i, u := range n.APIURLs {
		if err := waitHealthy(ctx, u+"/healthcheck", 60*time.Second); err != nil {
			return nil, fmt.Errorf("%s: %w (see %s)", n.nodes[i].name, err, n.nodes[i].log)
		}
	}
	return n, nil
}

func isNumber(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// Kill stops node i with SIGKILL, as a crash.
func (n *Net) Kill(i int) error { return n.nodes[i].kill(syscall.SIGKILL) }

// Restart starts node i again, from its store.
func (n *Net) Restart(i int) error { return n.nodes[i].start() }

// Stop stops every process (SIGTERM, then SIGKILL after 10 s) and waits
// for each to exit.
func (n *Net) Stop() {
	all := append(append([]*proc{}, n.nodes...), n.relay, n.orchestrator)
	var wg sync.WaitGroup
	for _, p := range all {
		if p == nil {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.kill(syscall.SIGTERM) }()
	}
	wg.Wait()
}

// Procs returns the PIDs of the running processes.
func (n *Net) Procs() []int {
	var out []int
	for _, p := range append(append([]*proc{}, n.nodes...), n.relay, n.orchestrator) {
		if p == nil {
			continue
		}
		p.mu.Lock()
		if p.cmd != nil && p.cmd.Process != nil && !p.exited() {
			out = append(out, p.cmd.Process.Pid)
		}
		p.mu.Unlock()
	}
	return out
}

// LogOf returns the log file of node i.
func (n *Net) LogOf(i int) string { return n.nodes[i].log }

func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !p.exited() {
		return fmt.Errorf("localnet: %s is running", p.name)
	}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Dir = filepath.Dir(p.log)
	cmd.Stdout, cmd.Stderr = f, f
	// A child dies with localnet, however localnet ends: no process is
	// left behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("localnet: start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	return nil
}

// exited reports whether the process has exited; p.mu is held.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill signals the process and waits for it to exit (SIGKILL after 10 s).
func (p *proc) kill(sig syscall.Signal) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	return nil
}

// build builds the binaries the network runs into dir.
func build(ctx context.Context, dir string, log io.Writer) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("localnet: the go command builds the binaries (or give --bin): %w", err)
	}
	for _, name := range []string{"sequencer", "orchestrator", "state-relay-server"} {
		fmt.Fprintf(log, "localnet: building %s\n", name)
		cmd := exec.CommandContext(ctx, goCmd, "build", "-o", filepath.Join(dir, name), "github.com/gospresso/gospresso/examples/"+name)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("localnet: go build %s: %w\n%s", name, err, out.String())
		}
	}
	return nil
}

func freeTCP() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freeUDP() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// waitHealthy polls url until it answers 200, for at most d.
func waitHealthy(ctx context.Context, url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localnet: %s not healthy within %v (last: %v)", url, d, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// genesisTOML is the local network's genesis: no stake table (the
// orchestrator fixes it), no L1.
const genesisTOML = `# gospresso local network: the stake table comes from the orchestrator.
base_version = "0.2"
upgrade_version = "0.2"

[stake_table]
capacity = 10

[chain_config]
chain_id = 999999998
base_fee = '0 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'

[header]
timestamp = "2024-01-01T00:00:00Z"
`
