package fs

import (
	"fmt"
	"log/slog"
)

// DefaultViewRetention is the default of [WithViewRetention]: the
// reference's --consensus-view-retention (docs/storage.md, "File-system
// storage").
const DefaultViewRetention = 130000

// DefaultSegmentSize is the default of [WithSegmentSize]: 1 GiB.
const DefaultSegmentSize = 1 << 30

// MinSegmentSize is the smallest segment size [WithSegmentSize] accepts.
const MinSegmentSize = 1 << 10

// Option configures [Open].
type Option func(*settings) error

type settings struct {
	viewRetention uint64
	segmentSize   int64
	logger        *slog.Logger
	consensusOnly bool
	set           map[string]bool
}

func defaultSettings() settings {
	return settings{
		viewRetention: DefaultViewRetention,
		segmentSize:   DefaultSegmentSize,
		logger:        slog.New(slog.DiscardHandler),
		set:           make(map[string]bool),
	}
}

// once reports an error when the option name was already given.
func (s *settings) once(name string) error {
	if s.set[name] {
		return fmt.Errorf("%w: %s given twice", ErrInvalidOption, name)
	}
	s.set[name] = true
	return nil
}

// WithViewRetention sets how many views below the last decided view a
// stored proposal is still worth keeping (--consensus-view-retention,
// docs/storage.md, "File-system storage"; default [DefaultViewRetention]). SaveDecided
// already drops every proposal up to the decided view; this bound applies
// to proposals saved afterwards for older views: SaveProposal does not keep
// a proposal whose view is more than n views below the last decided view,
// since no restart can need it. n must be at least 1.
func WithViewRetention(n uint64) Option {
	return func(s *settings) error {
		if err := s.once("view retention"); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: view retention: 0 (want at least 1 view)", ErrInvalidOption)
		}
		s.viewRetention = n
		return nil
	}
}

// WithSegmentSize sets the size at which the block log starts a new segment
// file (default [DefaultSegmentSize]; at least [MinSegmentSize]). A single
// SaveDecided call never spans two segments, so a segment can exceed the
// size by one call's blocks.
func WithSegmentSize(n int64) Option {
	return func(s *settings) error {
		if err := s.once("segment size"); err != nil {
			return err
		}
		if n < MinSegmentSize {
			return fmt.Errorf("%w: segment size: %d bytes (want at least %d)", ErrInvalidOption, n, MinSegmentSize)
		}
		s.segmentSize = n
		return nil
	}
}

// WithLogger sets the logger for recovery warnings at Open (a torn tail
// truncated, blocks dropped from a damaged segment). The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if err := s.once("logger"); err != nil {
			return err
		}
		if l == nil {
			return fmt.Errorf("%w: logger: nil (want a *slog.Logger)", ErrInvalidOption)
		}
		s.logger = l
		return nil
	}
}

// WithConsensusOnly opens the store in consensus-only mode, the storage of
// a lightweight node (docs/storage.md, "Modes": a node without the query
// module): the
// decided chain is not logged; SaveDecided keeps only the last decided
// block, in the anchor_leaf file, so the store stays a few kilobytes however
// long the node runs. Reads of the anchor work as in a full store; heights
// below it return an error wrapping storage.ErrPruned (see the package doc).
//
// The mode is fixed when the store is created (recorded in its mode file):
// opening a full store with this option, or a consensus-only store without
// it, fails with an error wrapping [ErrModeMismatch].
func WithConsensusOnly() Option {
	return func(s *settings) error {
		if err := s.once("consensus only"); err != nil {
			return err
		}
		s.consensusOnly = true
		return nil
	}
}
