package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/eth"
	"github.com/gospresso/gospresso/types"
)

// l1ProbeTimeout bounds one start-up probe of the L1 (eth_chainId, with the
// client's own retries inside): an L1 that has not answered by then is
// reported as unreachable, and probed again.
const l1ProbeTimeout = 5 * time.Second

// l1WaitReport is how often a node still waiting for its L1 says so again.
const l1WaitReport = time.Minute

// dialL1 connects to the --l1-provider-url providers (failover order) with
// the L1 options, and waits until one of them answers eth_chainId: a
// warning is logged when the L1 does not answer within l1ProbeTimeout, and
// again every minute while it stays silent. ctx (the signal context) ends
// the wait. The caller closes the client.
func dialL1(ctx context.Context, o *options.L1Options, log *slog.Logger, stdout io.Writer) (*eth.Client, error) {
	urls := make([]string, len(o.ProviderURLs))
	for i, u := range o.ProviderURLs {
		urls[i] = u.String()
	}
	c, err := eth.Dial(ctx, urls, ethOptions(o, log)...)
	if err != nil {
		return nil, fmt.Errorf("l1: %w", err)
	}
	fmt.Fprintf(stdout, "l1: providers %s (failover order)\n", strings.Join(c.Providers(), ", "))
	id, err := waitL1(ctx, c, o.RetryDelay, log)
	if err != nil {
		c.Close()
		return nil, err
	}
	fmt.Fprintf(stdout, "l1: connected to chain id %s via %s\n", id, c.Current())
	return c, nil
}

// waitL1 asks the L1 for its chain ID until it answers or ctx ends.
func waitL1(ctx context.Context, c *eth.Client, retry time.Duration, log *slog.Logger) (types.U256, error) {
	retry = max(retry, 100*time.Millisecond)
	var first, reported time.Time
	for {
		pctx, cancel := context.WithTimeout(ctx, l1ProbeTimeout)
		id, err := c.ChainID(pctx)
		cancel()
		if err == nil {
			if !first.IsZero() {
				log.Info("the L1 answers; starting the node", "provider", c.Current(), "chain_id", id,
					"waited", time.Since(first).Round(time.Second))
			}
			return id, nil
		}
		if ctx.Err() != nil {
			return types.U256{}, fmt.Errorf("interrupted while waiting for the L1 (%s): %w", strings.Join(c.Providers(), ", "), ctx.Err())
		}
		now := time.Now()
		switch {
		case first.IsZero():
			first, reported = now, now
			log.Warn("the L1 does not answer; waiting for it before starting the node (Ctrl-C to stop)",
				"providers", strings.Join(c.Providers(), ", "), "err", err)
		case now.Sub(reported) >= l1WaitReport:
			reported = now
			log.Warn("still waiting for the L1", "providers", strings.Join(c.Providers(), ", "),
				"waited", now.Sub(first).Round(time.Second), "err", err)
		default:
			log.Debug("the L1 does not answer yet", "err", err)
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return types.U256{}, fmt.Errorf("interrupted while waiting for the L1 (%s): %w", strings.Join(c.Providers(), ", "), ctx.Err())
		case <-t.C:
		}
	}
}

// ethOptions maps the L1 options onto the client's (docs/operator.md, "L1").
func ethOptions(o *options.L1Options, log *slog.Logger) []eth.Option {
	return []eth.Option{
		eth.WithRetryDelay(o.RetryDelay),
		eth.WithRateLimitDelay(o.RateLimitDelay),
		eth.WithEventsMaxBlockRange(o.EventsMaxBlockRange),
		eth.WithConsecutiveFailureTolerance(clampInt(o.ConsecutiveFailureTolerance)),
		eth.WithFrequentFailureTolerance(o.FrequentFailureTolerance),
		eth.WithLogger(log),
	}
}

// trackerOptions maps the L1 options onto the node's L1 tracker's.
func trackerOptions(o *options.L1Options) []l1.TrackerOption {
	return []l1.TrackerOption{
		l1.WithPollingInterval(o.PollingInterval),
		l1.WithRetryDelay(o.RetryDelay),
		l1.WithBlocksCacheSize(clampInt(o.BlocksCacheSize)),
		l1.WithEventsMaxBlockRange(o.EventsMaxBlockRange),
	}
}

func clampInt(v uint64) int { return int(min(v, math.MaxInt)) }

func sameURL(a, b *url.URL) bool { return a.String() == b.String() }

// defaultGlobal is the global options' defaults.
var defaultGlobal = sync.OnceValue(func() options.Global {
	cfg, err := options.Parse(nil, nil)
	if err != nil {
		panic("sequencer: the default options do not parse: " + err.Error())
	}
	return cfg.Global
})

// unusedL1 names the L1 options given that the node does not use: with a
// genesis that needs an L1, those of WebSocket subscriptions (not
// implemented: the node polls over HTTP); without, every L1 option changed
// from its default.
func unusedL1(o *options.L1Options, needsL1 bool) []string {
	def := defaultGlobal().L1
	changed := []struct {
		flag string
		set  bool
		ws   bool
	}{
		{"--l1-provider-url", !slices.EqualFunc(o.ProviderURLs, def.ProviderURLs, sameURL), false},
		{"--l1-ws-provider", len(o.WSProviderURLs) > 0, true},
		{"--l1-events-max-block-range", o.EventsMaxBlockRange != def.EventsMaxBlockRange, false},
		{"--l1-retry-delay", o.RetryDelay != def.RetryDelay, false},
		{"--l1-polling-interval", o.PollingInterval != def.PollingInterval, false},
		{"--l1-blocks-cache-size", o.BlocksCacheSize != def.BlocksCacheSize, false},
		{"--l1-events-channel-capacity", o.EventsChannelCapacity != def.EventsChannelCapacity, true},
		{"--l1-subscription-timeout", o.SubscriptionTimeout != def.SubscriptionTimeout, true},
		{"--l1-frequent-failure-tolerance", o.FrequentFailureTolerance != def.FrequentFailureTolerance, false},
		{"--l1-consecutive-failure-tolerance", o.ConsecutiveFailureTolerance != def.ConsecutiveFailureTolerance, false},
		{"--l1-rate-limit-delay", o.RateLimitDelay != def.RateLimitDelay, false},
	}
	var names []string
	for _, c := range changed {
		if c.set && (!needsL1 || c.ws) {
			names = append(names, c.flag)
		}
	}
	if len(names) == 0 {
		return nil
	}
	if needsL1 {
		return []string{strings.Join(names, ", ") + " (WebSocket subscriptions are not implemented: the node polls --l1-provider-url every --l1-polling-interval)"}
	}
	return []string{strings.Join(names, ", ") + " (the genesis needs no L1)"}
}
