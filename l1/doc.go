// Package l1 is gospresso's narrow view of the L1 (docs/l1.md): its own types
// (Deposit, and types.L1BlockInfo for blocks), the Client interface that
// reads the L1, and the Tracker that keeps what consensus needs from the L1
// without ever blocking it. Package l1 imports no Ethereum library: l1/eth
// implements Client over go-ethereum's ethclient, and l1/l1test runs an
// embedded L1 for the dev node and tests.
//
// # The tracker
//
// A Tracker polls the L1's head and finalized block every polling interval
// (retrying after the retry delay when a poll fails), keeps a cache of block
// infos (at most the blocks cache size), and pre-fetches the fee contract's
// deposits of the finalized blocks as finalization advances. Consensus reads
// it with Snapshot, BlockInfo and Deposits, which never block: a miss queues
// a fetch on a bounded, deduplicated queue that one worker drains, retrying a
// failed fetch after the retry delay a few times before dropping it (a later
// miss queues it again), and returns false so the caller asks again later.
// Both the head and the finalized block it reports never go backwards, even
// when a provider that lags takes over.
//
// Only blocks at or below the tracker's finalized block are fetched: BlockInfo
// and Deposits for anything above it return false and queue nothing. A
// finalized block cannot change, so a cached block info or deposit list is
// never stale.
//
// # Deposits are credited exactly once
//
// Every header carries l1_finalized, the latest finalized L1 block its
// proposer saw, never lower than its parent's. The chain state credits, when
// it applies header H with parent P, exactly the deposits of the L1 blocks in
// (P.l1_finalized, H.l1_finalized]. These ranges, for the headers of a chain,
// are disjoint and leave no gap, so each L1 block's deposits are counted in
// exactly one header. And since they are read only for finalized blocks, no
// L1 reorg can add, drop or change one of them after it was credited: every
// node that reads the range (whatever its provider) gets the same deposits,
// in the same (block, log) order, and a node that restarts and reads it
// again gets them again. Deposits(from, to) therefore answers only for
// ranges it fetched whole, never for part of a range.
//
// # Start-up
//
// WaitFinalized and WaitResolved block, logging progress, until the L1 has
// finalized a given block (or, for the timestamp form of [l1_finalized], a
// block at or after a given time): a node calls them before it starts
// consensus. Resolve answers the same question without waiting.
package l1
