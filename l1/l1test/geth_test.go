package l1test

import (
	"context"
	"errors"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/gospresso/gospresso/types"
)

// TestLookupGeth: GOSPRESSO_TEST_GETH wins over PATH, must name an
// executable file, and without either the reason says how to get geth.
func TestLookupGeth(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "geth")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == GethEnv {
				return v
			}
			return ""
		}
	}
	onPath := func(string) (string, error) { return "/usr/bin/geth", nil }
	noPath := func(string) (string, error) { return "", errors.New("not found") }

	if bin, _ := lookupGeth(env(exe), onPath); bin != exe {
		t.Errorf("with %s set: %q; want %q", GethEnv, bin, exe)
	}
	if bin, _ := lookupGeth(env(""), onPath); bin != "/usr/bin/geth" {
		t.Errorf("with geth on PATH: %q", bin)
	}
	for _, bad := range []string{plain, dir, filepath.Join(dir, "missing")} {
		if bin, why := lookupGeth(env(bad), onPath); bin != "" || !strings.Contains(why, "is not an executable file") {
			t.Errorf("%s=%s: %q, %q; want no binary", GethEnv, bad, bin, why)
		}
	}
	bin, why := lookupGeth(env(""), noPath)
	if bin != "" || !strings.Contains(why, "set "+GethEnv) || !strings.Contains(why, ".ci/run") {
		t.Errorf("without geth: %q, %q; want a message saying how to run the test", bin, why)
	}
}

// TestGethOutputEndpoint: the endpoint is found in a line split across
// writes, and only the unauthenticated server's.
func TestGethOutputEndpoint(t *testing.T) {
	o := newGethOutput()
	o.Write([]byte("INFO [12-04|19:13:45.520] HTTP server started                      endpoint=127.0.0.1:1 auth=true prefix=\nINFO [12-04|19:13:45.523] HTTP server st"))
	o.Write([]byte("arted                      endpoint=127.0.0.1:38087 auth=false prefix= cors= vhosts=localhost\nmore\n"))
	select {
	case ep := <-o.endpoint:
		if ep != "127.0.0.1:38087" {
			t.Errorf("endpoint %q", ep)
		}
	default:
		t.Fatal("no endpoint found")
	}
	if !strings.Contains(o.String(), "more") {
		t.Error("output lost")
	}
}

// TestStartGeth: the funded account, the fee contract helpers, and that
// cleanup stops geth.
func TestStartGeth(t *testing.T) {
	var u string
	t.Run("run", func(t *testing.T) {
		g := StartGeth(t)
		u = g.URL()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ec, err := ethclient.DialContext(ctx, g.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer ec.Close()
		if g.ChainID().Cmp(big.NewInt(ChainID)) != 0 {
			t.Errorf("chain ID %s; want %d", g.ChainID(), ChainID)
		}
		bal, err := ec.BalanceAt(ctx, common.Address(g.Account().Address), nil)
		if err != nil || bal.Cmp(gethFunding) != 0 {
			t.Errorf("the account's balance = %v, %v; want %s", bal, err, gethFunding)
		}
		if _, err := g.Deposit(ctx, types.Address{1}, types.NewU256(1)); err == nil {
			t.Error("Deposit before DeployFeeContract succeeded")
		}
		fee, err := g.DeployFeeContract(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g.FeeContract() != fee {
			t.Errorf("FeeContract = %s; want %s", g.FeeContract(), fee)
		}
		// The account's first transaction deploys the contract, as on the
		// embedded L1: the same account and nonce give the same address.
		if want := crypto.CreateAddress(common.Address(g.Account().Address), 0); common.Address(fee) != want {
			t.Errorf("fee contract at %s; want %s", fee, want)
		}
		user := types.Address{0xcc}
		d, err := g.Deposit(ctx, user, types.NewU256(12345))
		if err != nil {
			t.Fatal(err)
		}
		if bal, err := ec.BalanceAt(ctx, common.Address(fee), nil); err != nil || bal.Cmp(big.NewInt(12345)) != 0 {
			t.Errorf("the contract's balance = %v, %v; want 12345", bal, err)
		}
		if d.Account != user || d.Amount != types.NewU256(12345) || d.Block == 0 {
			t.Errorf("Deposit = %+v", d)
		}
		if !strings.Contains(g.Output(), "HTTP server started") {
			t.Errorf("geth's output lacks the HTTP server line:\n%s", g.Output())
		}
	})
	if u == "" {
		t.Skip("no geth: see the subtest")
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", pu.Host, time.Second); err == nil {
		conn.Close()
		t.Errorf("geth still listens at %s after the test's cleanup", u)
	}
}
