package consensus

import (
	"fmt"
	"time"
)

// Config holds the consensus parameters (docs/protocol.md, "Consensus parameters").
type Config struct {
	// NextViewTimeout is how long a view may run without progress before the
	// node sends a timeout vote. Default 12s.
	NextViewTimeout time.Duration
	// ViewSyncTimeout is how long a view-sync attempt waits for a
	// certificate before moving to the next relay. Default 2s.
	ViewSyncTimeout time.Duration
	// BuilderTimeout is the longest a leader waits for transactions before
	// proposing an empty block. Default 1s.
	BuilderTimeout time.Duration
	// TimeoutRatio is the backoff applied per consecutive timeout, as
	// numerator and denominator. Default 11:10. The timer is capped at 10×
	// NextViewTimeout.
	TimeoutRatioNum, TimeoutRatioDen uint64
	// MaxViewsAhead bounds how far ahead of the current view votes and
	// proposals are buffered; further ones are dropped. Certificates are
	// always processed. Default 100.
	MaxViewsAhead uint64
	// FetchTimeout is how long a request for missing leaves waits before it
	// is retried with another peer. Default 1s.
	FetchTimeout time.Duration
}

// DefaultConfig returns the defaults documented on each field of Config.
func DefaultConfig() Config {
	return Config{
		NextViewTimeout: 12 * time.Second,
		ViewSyncTimeout: 2 * time.Second,
		BuilderTimeout:  time.Second,
		TimeoutRatioNum: 11, TimeoutRatioDen: 10,
		MaxViewsAhead: 100,
		FetchTimeout:  time.Second,
	}
}

// withDefaults fills zero fields from DefaultConfig and checks the rest.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if c.NextViewTimeout == 0 {
		c.NextViewTimeout = d.NextViewTimeout
	}
	if c.ViewSyncTimeout == 0 {
		c.ViewSyncTimeout = d.ViewSyncTimeout
	}
	if c.BuilderTimeout == 0 {
		c.BuilderTimeout = d.BuilderTimeout
	}
	if c.TimeoutRatioNum == 0 && c.TimeoutRatioDen == 0 {
		c.TimeoutRatioNum, c.TimeoutRatioDen = d.TimeoutRatioNum, d.TimeoutRatioDen
	}
	if c.MaxViewsAhead == 0 {
		c.MaxViewsAhead = d.MaxViewsAhead
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = d.FetchTimeout
	}
	switch {
	case c.NextViewTimeout < 0:
		return c, fmt.Errorf("%w: next view timeout %v, want > 0", ErrInvalidConfig, c.NextViewTimeout)
	case c.ViewSyncTimeout < 0:
		return c, fmt.Errorf("%w: view sync timeout %v, want > 0", ErrInvalidConfig, c.ViewSyncTimeout)
	case c.BuilderTimeout < 0:
		return c, fmt.Errorf("%w: builder timeout %v, want >= 0", ErrInvalidConfig, c.BuilderTimeout)
	case c.TimeoutRatioDen == 0 || c.TimeoutRatioNum < c.TimeoutRatioDen:
		return c, fmt.Errorf("%w: timeout ratio %d:%d, want N:D with N >= D > 0", ErrInvalidConfig, c.TimeoutRatioNum, c.TimeoutRatioDen)
	case c.FetchTimeout < 0:
		return c, fmt.Errorf("%w: fetch timeout %v, want > 0", ErrInvalidConfig, c.FetchTimeout)
	}
	return c, nil
}

// replyInterval is the shortest time between two identical answers to one
// member: half the shortest interval at which an honest member re-sends a
// vote, so every re-send is answered.
func (c Config) replyInterval() time.Duration {
	return min(c.NextViewTimeout, c.ViewSyncTimeout) / 2
}

// viewTimeout is NextViewTimeout × ratio^k, capped at 10 × NextViewTimeout.
func (c Config) viewTimeout(k int) time.Duration {
	d := c.NextViewTimeout
	limit := 10 * c.NextViewTimeout
	for range k {
		d = time.Duration(uint64(d) / c.TimeoutRatioDen * c.TimeoutRatioNum)
		if d >= limit {
			return limit
		}
	}
	return d
}
