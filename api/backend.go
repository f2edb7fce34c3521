package api

import (
	"context"
	"iter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// Backend is what the API reads from a node; package node implements it.
// All methods are safe for concurrent use.
type Backend interface {
	// Store is the node's store. Modules that need range and namespace
	// reads check it for storage.QueryStore at run time.
	Store() storage.BlockStore
	// BlockHeight is the number of decided blocks (the newest has height
	// BlockHeight()-1).
	BlockHeight() uint64
	// Decided yields the decided blocks from height from on: the stored
	// ones, then each new one as it is decided, until ctx ends or the node
	// stops (an error ends the sequence).
	Decided(ctx context.Context, from uint64) iter.Seq2[types.Block, error]
	// SubmitTransaction admits a transaction and returns its commitment.
	SubmitTransaction(ctx context.Context, tx types.Transaction) (types.Commitment, error)
	// Info describes the node and its network. It holds no secret.
	Info() Info
	// Status reports the node's live consensus state.
	Status() NodeStatus
	// Metrics gathers the node's Prometheus metrics.
	Metrics() prometheus.Gatherer
	// StateSignature returns the light-client state of the block at
	// height, signed with the node's state key, if it is among the latest
	// the node keeps (node.StateSignaturesKept).
	StateSignature(height uint64) (lightclient.SignedState, bool)
	// VerifyQC checks a quorum certificate of the node's network (for
	// blocks fetched from peers).
	VerifyQC(q *types.QuorumCertificate) error
}

// Info describes a node and its network: nothing in it is secret.
type Info struct {
	// Genesis is the network's genesis (its stake table carries only
	// public keys).
	Genesis *genesis.Genesis
	// Consensus holds the consensus parameters the node runs with.
	Consensus consensus.Config
	// NodeIndex is the node's stake-table index, or -1 for an observer.
	NodeIndex int
	// StakingKey and StateKey are the node's public keys.
	StakingKey keys.StakingPubKey
	StateKey   keys.StatePubKey
	// Version is the node software's version.
	Version string
}

// NodeStatus is a node's live consensus state.
type NodeStatus struct {
	View            types.ViewNumber
	LastDecidedView types.ViewNumber
	// LastDecidedTime is when the node last decided a block; zero before
	// the first.
	LastDecidedTime time.Time
	// Halted reports that the node stopped participating (see node.Err).
	Halted bool
}
