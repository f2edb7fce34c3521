package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/gospresso/gospresso/api/client"
	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/types"
)

// stateRequestTimeout bounds one peer's answer to catchup/state: a state
// of a million accounts is some 70 MB.
const stateRequestTimeout = 2 * time.Minute

// maxStateResponse bounds what one peer's answer may make this node read.
const maxStateResponse = 512 << 20

// minStateRetry is the shortest wait between two rounds of asking the
// state peers, whatever --catchup-base-retry-delay says.
const minStateRetry = 100 * time.Millisecond

// stateSource is the node's state catchup over HTTP (node.WithStateCatchup;
// docs/state.md, "State catchup"), used only when the store cannot rebuild
// the chain state at start. It asks the --state-peers in the order given
// for their newest chain state (catchup/state) and returns the first
// answer; when none answers it waits the catchup backoff (the --catchup-*
// options, at least minStateRetry) and asks them all again, until ctx
// ends. The node checks the answer: the peers are not trusted.
func stateSource(peers []*url.URL, cu options.CatchupOptions, log *slog.Logger) (func(context.Context) (types.Block, []byte, error), error) {
	clients := make([]*client.Client, len(peers))
	for i, p := range peers {
		c, err := client.New(p.String(), client.WithTimeout(stateRequestTimeout), client.WithMaxResponseSize(maxStateResponse))
		if err != nil {
			return nil, fmt.Errorf("--state-peers %s: %w", p, err)
		}
		clients[i] = c
	}
	return func(ctx context.Context) (types.Block, []byte, error) {
		defer func() {
			for _, c := range clients {
				c.CloseIdleConnections() // asked once, at start
			}
		}()
		delay := max(cu.BaseRetryDelay, minStateRetry)
		most := max(cu.MaxRetryDelay, delay)
		for round := 1; ; round++ {
			var errs []error
			for i, c := range clients {
				cs, err := c.ChainState(ctx)
				if err == nil {
					log.Info("state catchup: chain state fetched", "peer", peers[i].String(), "height", cs.Leaf.Height(), "bytes", len(cs.State))
					return cs.Block(), cs.State, nil
				}
				errs = append(errs, fmt.Errorf("%s: %w", peers[i], err))
			}
			err := errors.Join(errs...)
			wait := jittered(delay, cu.BackoffJitter.Float())
			log.Warn("state catchup: no state peer answered; asking again", "round", round, "retry_in", wait, "err", err)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return types.Block{}, nil, fmt.Errorf("state catchup from %d state peer(s), %d round(s): %w; the last: %w", len(peers), round, ctx.Err(), err)
			case <-t.C:
			}
			if !cu.BackoffDisable {
				delay = min(time.Duration(float64(delay)*float64(max(cu.BackoffFactor, 1))), most)
			}
		}
	}, nil
}

// jittered spreads d by ± fraction j, taken between 0 and 1.
func jittered(d time.Duration, j float64) time.Duration {
	if !(j > 0) { // also NaN
		return d
	}
	j = min(j, 1)
	return time.Duration(float64(d) * (1 + j*(2*rand.Float64()-1)))
}

// unusedCatchup names the catchup options given that the node does not
// use: the proposal fetcher's (the node fetches missing proposals from its
// peers over libp2p, on its own schedule) and, without --state-peers, the
// backoff's, which pace state catchup only.
func unusedCatchup(cu *options.CatchupOptions, statePeers bool) []string {
	def := defaultGlobal().Catchup
	var out []string
	var fetcher []string
	if cu.ProposalFetcherNumWorkers != def.ProposalFetcherNumWorkers {
		fetcher = append(fetcher, "--proposal-fetcher-num-workers")
	}
	if cu.ProposalFetcherFetchTimeout != def.ProposalFetcherFetchTimeout {
		fetcher = append(fetcher, "--proposal-fetcher-fetch-timeout")
	}
	if len(fetcher) > 0 {
		out = append(out, strings.Join(fetcher, ", ")+" (the node fetches missing proposals from its peers over libp2p)")
	}
	if statePeers {
		return out
	}
	var backoff []string
	for _, c := range []struct {
		flag string
		set  bool
	}{
		{"--catchup-backoff-disable", cu.BackoffDisable != def.BackoffDisable},
		{"--catchup-base-retry-delay", cu.BaseRetryDelay != def.BaseRetryDelay},
		{"--catchup-max-retry-delay", cu.MaxRetryDelay != def.MaxRetryDelay},
		{"--catchup-backoff-factor", cu.BackoffFactor != def.BackoffFactor},
		{"--catchup-backoff-jitter", cu.BackoffJitter != def.BackoffJitter},
	} {
		if c.set {
			backoff = append(backoff, c.flag)
		}
	}
	if len(backoff) > 0 {
		out = append(out, strings.Join(backoff, ", ")+" (they pace state catchup, which needs --state-peers)")
	}
	return out
}
