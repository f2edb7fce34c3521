package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/types"
)

// StateSignaturesKept is how many of its latest signed light-client states
// a node keeps for the state-signature API.
const StateSignaturesKept = 100

// stateSigner signs the light-client state of every decided block with
// the node's state key, keeps the latest StateSignaturesKept, and hands the
// newest to the relay poster. Sign runs on the run loop; Get from anywhere.
type stateSigner struct {
	mu     sync.Mutex
	ring   [StateSignaturesKept]lightclient.SignedState
	filled [StateSignaturesKept]bool
	latest chan lightclient.SignedState // capacity 1: the poster only ever needs the newest
}

func newStateSigner() *stateSigner {
	return &stateSigner{latest: make(chan lightclient.SignedState, 1)}
}

func (s *stateSigner) add(st lightclient.SignedState) {
	s.mu.Lock()
	i := st.State.BlockHeight % StateSignaturesKept
	s.ring[i], s.filled[i] = st, true
	s.mu.Unlock()
	select { // replace whatever the poster has not taken yet
	case <-s.latest:
	default:
	}
	s.latest <- st
}

// get returns the signed state of height h if it is among the latest kept.
func (s *stateSigner) get(h uint64) (lightclient.SignedState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := h % StateSignaturesKept
	if !s.filled[i] || s.ring[i].State.BlockHeight != h {
		return lightclient.SignedState{}, false
	}
	return s.ring[i], true
}

// signDecided signs the state of each decided block (run loop).
func (n *Node) signDecided(blocks []types.Block) {
	for i := range blocks {
		st, err := lightclient.Sign(n.keys.State, lightclient.StateOf(&blocks[i].Leaf))
		if err != nil {
			n.log.Error("sign light-client state", "height", blocks[i].Height(), "err", err)
			continue
		}
		n.states.add(st)
	}
}

// Relay posting: the newest state, retried with backoff, never blocking
// consensus (the run loop only replaces the one-slot mailbox).
const (
	relayTimeout    = 5 * time.Second
	relayMinBackoff = 200 * time.Millisecond
	relayMaxBackoff = 10 * time.Second
)

// postStates posts each newest signed state to the relay at url until ctx
// ends. A failed post is retried with exponential backoff unless a newer
// state arrives first.
func (n *Node) postStates(ctx context.Context, url string) {
	// A transport of its own, whose idle connections close with the poster,
	// so a relay shutting down never waits for a connection this node left.
	transport := &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConns: 1, IdleConnTimeout: 30 * time.Second}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: relayTimeout, Transport: transport}
	backoff := relayMinBackoff
	var pending *lightclient.SignedState
	for {
		if pending == nil {
			select {
			case <-ctx.Done():
				return
			case st := <-n.states.latest:
				pending = &st
			}
		}
		err := postState(ctx, client, url, pending)
		if err == nil {
			pending, backoff = nil, relayMinBackoff
			continue
		}
		n.log.Warn("post light-client state to the relay", "height", pending.State.BlockHeight, "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case st := <-n.states.latest:
			t.Stop()
			pending = &st
		case <-t.C:
		}
		backoff = min(2*backoff, relayMaxBackoff)
	}
}

func postState(ctx context.Context, client *http.Client, url string, st *lightclient.SignedState) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/state", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("relay answered %s", resp.Status)
	}
	return nil
}
