package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// DefaultFetchTimeout bounds fetching one missing object from peers.
const DefaultFetchTimeout = 500 * time.Millisecond

// maxFetchBody bounds a peer's answer.
const maxFetchBody = 16 << 20

// WithPeers makes the availability module fetch a block it does not hold
// (missing, or pruned by this node) from the query services at peers
// (their base URLs, such as http://peer:8080), trying them in turn, all
// within timeout (DefaultFetchTimeout when 0), before answering 404. A
// fetched block is served only if it checks out: its leaf certifies its
// header, its payload matches the header's payload commitment and
// namespace table, its certificate verifies against this node's stake
// table, it is below this node's decided height, and it is the object
// asked for (height or hash). Nothing fetched is stored.
func WithPeers(peers []string, timeout time.Duration) AvailabilityOption {
	return func(a *availability) error {
		if timeout < 0 {
			return fmt.Errorf("%w: fetch timeout %v, want >= 0", ErrInvalidOption, timeout)
		}
		if timeout == 0 {
			timeout = DefaultFetchTimeout
		}
		var clean []string
		for _, p := range peers {
			p = strings.TrimRight(strings.TrimSpace(p), "/")
			p = strings.TrimSuffix(strings.TrimSuffix(p, "/v0"), "/v1")
			if !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
				return fmt.Errorf("%w: peer %q, want an http:// or https:// URL", ErrInvalidOption, p)
			}
			clean = append(clean, p)
		}
		a.fetch = &fetcher{peers: clean, timeout: timeout, client: &http.Client{Timeout: timeout}}
		return nil
	}
}

type fetcher struct {
	peers   []string
	timeout time.Duration
	client  *http.Client
}

// missing reports whether a store error means the block is not here.
func missing(err error) bool {
	return errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrPruned)
}

// block fetches from peers the block that path (an availability route
// under /v0/availability/, answering a block) names, and checks it with
// want as well as the checks of WithPeers.
func (f *fetcher) block(ctx context.Context, b Backend, path string, want func(*types.Block) bool) (types.Block, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var errs []error
	for _, peer := range f.peers {
		blk, err := f.fromPeer(ctx, b, peer, path, want)
		if err == nil {
			return blk, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", peer, err))
		if ctx.Err() != nil {
			break
		}
	}
	return types.Block{}, errors.Join(errs...)
}

func (f *fetcher) fromPeer(ctx context.Context, b Backend, peer, path string, want func(*types.Block) bool) (types.Block, error) {
	var bd BlockQueryData
	if err := f.get(ctx, peer+"/v0/availability/"+path, &bd); err != nil {
		return types.Block{}, err
	}
	var ld LeafQueryData
	if err := f.get(ctx, fmt.Sprintf("%s/v0/availability/leaf/%d", peer, bd.Header.Height), &ld); err != nil {
		return types.Block{}, err
	}
	blk := types.Block{Leaf: ld.Leaf, Payload: bd.Payload, QC: ld.QC}
	switch {
	case blk.Leaf.Header.Commit() != bd.Header.Commit():
		return types.Block{}, errors.New("its leaf and block disagree on the header")
	case !payloadMatches(b.Info(), &blk):
		return types.Block{}, errors.New("its payload does not match the header's payload commitment")
	case string(blk.Payload.NsTable.Bytes) != string(blk.Leaf.Header.NsTable.Bytes):
		return types.Block{}, errors.New("its payload's namespace table is not the header's")
	case blk.QC.Leaf != blk.Leaf.Commit():
		return types.Block{}, errors.New("its certificate is for another leaf")
	case blk.Height() >= b.BlockHeight():
		return types.Block{}, fmt.Errorf("height %d is not decided here yet", blk.Height())
	case !want(&blk):
		return types.Block{}, errors.New("it is not the block asked for")
	}
	if err := b.VerifyQC(&blk.QC); err != nil {
		return types.Block{}, err
	}
	return blk, nil
}

func (f *fetcher) get(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxFetchBody)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// payloadMatches reports whether a block's payload is the one its header
// commits to on the backend's network.
func payloadMatches(info Info, blk *types.Block) bool {
	c, err := payloadCommitment(info, &blk.Payload)
	return err == nil && c == blk.Leaf.Header.PayloadCommitment
}
