package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/l1/l1test"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/types"
)

// mainEnv makes the test binary run main (TestMain), so that a test can
// send the sequencer a real signal.
const mainEnv = "GOSPRESSO_SEQUENCER_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// l1Genesis writes the demo genesis (base_fee 1 wei, a fee contract,
// [l1_finalized] by number) with k as its one-member stake table, the fee
// contract fee, l1_finalized number fin, and the node's builder account
// prefunded.
func l1Genesis(t *testing.T, k keys.Keys, fee types.Address, fin uint64) string {
	t.Helper()
	bk, err := node.DefaultBuilderKey(k.Staking)
	if err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf(`base_version = "0.2"
upgrade_version = "0.2"

[stake_table]
capacity = 10

[chain_config]
chain_id = 999999999
base_fee = '1 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'
fee_contract = '%s'

[header]
timestamp = "1970-01-01T00:00:00Z"

[l1_finalized]
number = %d

[accounts]
"%s" = '1 eth'

[[public_keys]]
stake_table_key = %q
state_ver_key = %q
da = true
stake = 1
stake_table_key_pop = %q
`, fee, fin, chain.BuilderAddress(bk), k.Staking.PubKey(), k.State.PubKey(), k.Staking.ProvePossession())
	path := filepath.Join(t.TempDir(), "genesis.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startL1 starts an embedded L1 serving JSON-RPC on 127.0.0.1.
func startL1(t *testing.T, opts ...l1test.Option) *l1test.L1 {
	t.Helper()
	l, err := l1test.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// closedPort returns a 127.0.0.1 URL where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// sequencer is a run of the sequencer in this process.
type sequencer struct {
	out, errOut syncBuffer
	cancel      context.CancelFunc
	done        chan int
}

func startSequencer(t *testing.T, args []string) *sequencer {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s := &sequencer{cancel: cancel, done: make(chan int, 1)}
	go func() { s.done <- run(ctx, args, func(string) (string, bool) { return "", false }, &s.out, &s.errOut) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("the sequencer did not stop within 30s of the signal")
		}
	})
	return s
}

// waitFor waits until stream() contains want; the run must not end first.
func (s *sequencer) waitFor(t *testing.T, stream func() string, want string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for !strings.Contains(stream(), want) {
		select {
		case code := <-s.done:
			s.done <- code
			t.Fatalf("the sequencer exited %d before printing %q:\n%s\n%s", code, want, s.out.String(), s.errOut.String())
		case <-deadline:
			t.Fatalf("no %q within %v:\n%s\n%s", want, d, s.out.String(), s.errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop cancels the run's context and returns its exit status.
func (s *sequencer) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("the sequencer did not stop within 30s of the signal:\n%s\n%s", s.out.String(), s.errOut.String())
		return 0
	}
}

// The demo genesis, with a stake table and the embedded L1's fee contract,
// runs against an L1 reached over JSON-RPC: the node waits for the L1,
// decides blocks whose headers carry the L1's head and finalized block,
// sequences a transaction its builder pays for, and stops on the signal.
func TestSequencerWithL1(t *testing.T) {
	l := startL1(t, l1test.WithBlockInterval(50*time.Millisecond))
	k, keyFile := testKeys(t)
	gen := l1Genesis(t, k, l.FeeContract(), 0)
	args := strings.Fields("--key-file " + keyFile + " --genesis-file " + gen + " --l1-provider-url " + l.URL() +
		" --l1-polling-interval 100ms --l1-retry-delay 100ms --l1-subscription-timeout 2m" +
		" --libp2p-bind-address 127.0.0.1:0 --libp2p-advertise-address 127.0.0.1:0 --next-view-timeout 2s --builder-timeout 20ms" +
		" -- storage-fs --path " + filepath.Join(t.TempDir(), "store") + " -- http --port 0 -- query -- submit -- status")
	s := startSequencer(t, args)
	s.waitFor(t, s.out.String, "api: serving on http://", 60*time.Second)
	out := s.out.String()
	for _, want := range []string{
		"needs L1 true",
		"\nl1: providers " + l.URL() + " (failover order)\n",
		"\nl1: connected to chain id 1337 via " + l.URL() + "\n",
		"; --l1-subscription-timeout (WebSocket subscriptions are not implemented",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	m := servingRE.FindStringSubmatch(out)
	base := "http://127.0.0.1:" + m[1]
	if err := waitHeight(base, 3, 30*time.Second); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, s.errOut.String())
	}

	// A transaction: base_fee is 1 wei a byte, paid from the builder's
	// prefunded account.
	resp, err := http.Post(base+"/v0/submit/submit", "application/json", strings.NewReader(`{"namespace":9,"payload":"aGVsbG8gTDE="}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tx := types.Transaction{Namespace: 9, Payload: []byte("hello L1")}
	var height uint64
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/v0/availability/transaction/hash/" + tx.Commit().Tagged(types.TagTransaction).String())
		if err == nil {
			var got struct {
				BlockHeight uint64 `json:"block_height"`
			}
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && err == nil {
				height = got.BlockHeight
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction not decided within 30s:\n%s\n%s", s.out.String(), s.errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Its header carries the L1's head, a finalized L1 block, and the fee.
	var hdr struct {
		Fields struct {
			L1Head      uint64 `json:"l1_head"`
			L1Finalized *struct {
				Number uint64 `json:"number"`
			} `json:"l1_finalized"`
			FeeInfo struct {
				Amount string `json:"amount"`
			} `json:"fee_info"`
		} `json:"fields"`
	}
	resp, err = http.Get(fmt.Sprintf("%s/v0/availability/header/%d", base, height))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatalf("header %d: %v: %s", height, err, b)
	}
	h := hdr.Fields
	if h.L1Head == 0 || h.L1Finalized == nil || h.L1Finalized.Number > h.L1Head {
		t.Errorf("header %d: l1_head %d, l1_finalized %+v: want the L1's blocks: %s", height, h.L1Head, h.L1Finalized, b)
	}
	if h.FeeInfo.Amount == "" || h.FeeInfo.Amount == "0" || h.FeeInfo.Amount == "0x0" {
		t.Errorf("header %d pays no fee: %s", height, b)
	}

	if code := s.stop(t); code != exitOK {
		t.Fatalf("exit %d after the signal:\n%s", code, s.errOut.String())
	}
	if !strings.Contains(s.out.String(), "sequencer: stopped; store closed") {
		t.Errorf("no clean stop reported:\n%s", s.out.String())
	}
}

// A genesis [l1_finalized] block the L1 has not finalized: the node says it
// waits for it, and the signal still stops it.
func TestSequencerWaitsForL1Finality(t *testing.T) {
	l := startL1(t) // no block timer: block 1000 is never finalized
	k, keyFile := testKeys(t)
	gen := l1Genesis(t, k, l.FeeContract(), 1000)
	s := startSequencer(t, strings.Fields("--key-file "+keyFile+" --genesis-file "+gen+" --l1-provider-url "+l.URL()+
		" --libp2p-bind-address 127.0.0.1:0 --libp2p-advertise-address 127.0.0.1:0"+
		" -- storage-fs --path "+filepath.Join(t.TempDir(), "store")))
	s.waitFor(t, s.errOut.String, "waiting for the genesis [l1_finalized] block to be finalized on the L1", 30*time.Second)
	if code := s.stop(t); code != exitFailure {
		t.Fatalf("exit %d after the signal, want %d:\n%s", code, exitFailure, s.errOut.String())
	}
	if errOut := s.errOut.String(); !strings.Contains(errOut, "\nsequencer: ") || !strings.Contains(errOut, "context canceled") {
		t.Errorf("stderr does not end with the interruption:\n%s", errOut)
	}
}

// An L1 that does not answer: the sequencer says it waits for it, and
// SIGTERM stops the process.
func TestSequencerUnreachableL1(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sequencer as a process")
	}
	k, keyFile := testKeys(t)
	gen := l1Genesis(t, k, types.Address{1}, 0)
	url := closedPort(t)
	cmd := exec.Command(os.Args[0], strings.Fields("--key-file "+keyFile+" --genesis-file "+gen+" --l1-provider-url "+url+
		" --l1-retry-delay 50ms --libp2p-bind-address 127.0.0.1:0 --libp2p-advertise-address 127.0.0.1:0"+
		" -- storage-fs --path "+filepath.Join(t.TempDir(), "store"))...)
	cmd.Env = []string{mainEnv + "=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(errOut.String(), "the L1 does not answer; waiting for it before starting the node (Ctrl-C to stop)") {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the sequencer exited (%v) while its L1 is unreachable:\n%s\n%s", err, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("no warning about the unreachable L1 within 30s:\n%s\n%s", out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !strings.Contains(out.String(), "\nl1: providers "+url+" (failover order)\n") {
		t.Errorf("stdout lacks the L1 providers:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if cmd.ProcessState.ExitCode() != exitFailure {
			t.Errorf("exit %v after SIGTERM, want status %d", err, exitFailure)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the sequencer did not stop within 15s of SIGTERM:\n%s", errOut.String())
	}
	if e := errOut.String(); !strings.HasSuffix(e, "sequencer: interrupted while waiting for the L1 ("+url+"): context canceled\n") {
		t.Errorf("stderr does not end with the interruption:\n%s", e)
	}
}

// The options that are parsed but not implemented are named once; without
// an L1 in the genesis, every L1 option given is.
func TestUnusedL1Options(t *testing.T) {
	parse := func(args string) *options.Config {
		t.Helper()
		cfg, err := options.Parse(strings.Fields(args), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	for _, tc := range []struct {
		args    string
		needsL1 bool
		want    string
	}{
		{"", true, ""},
		{"", false, ""},
		{"--l1-provider-url http://l1:8545 --l1-polling-interval 1s", true, ""},
		{"--l1-ws-provider ws://l1:8546 --l1-events-channel-capacity 5 --l1-polling-interval 1s", true,
			"--l1-ws-provider, --l1-events-channel-capacity (WebSocket subscriptions are not implemented: " +
				"the node polls --l1-provider-url every --l1-polling-interval)"},
		{"--l1-provider-url http://l1:8545 --l1-subscription-timeout 5m", false,
			"--l1-provider-url, --l1-subscription-timeout (the genesis needs no L1)"},
	} {
		if got := strings.Join(unusedL1(&parse(tc.args).Global.L1, tc.needsL1), "; "); got != tc.want {
			t.Errorf("%q (needs L1 %t):\n got %q\nwant %q", tc.args, tc.needsL1, got, tc.want)
		}
	}
	if got, want := unused(parse("--l1-ws-provider ws://l1:8546"), true), "sequencer: not used by this node: "+
		"--cdn-endpoint 127.0.0.1:8081 (this node relays over libp2p only); --l1-ws-provider (WebSocket"; !strings.HasPrefix(got, want) {
		t.Errorf("unused: %q, want it to start %q", got, want)
	}
}
