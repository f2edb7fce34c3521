// Package fs is the file-system storage backend (the `storage-fs` module;
// docs/storage.md, "File-system storage"): a storage.Store kept in plain files under one directory,
// durable on every write and safe against a crash between any two system
// calls. It does not implement storage.Pruner: pruning is refused with
// [ErrPruningUnsupported], as the operator guide says.
//
// # Layout
//
// Under the directory given to [Open]:
//
//	lock                          held with flock(2) while the store is open
//	mode                          "full" or "consensus-only", written at creation
//	highest_voted_view            the consensus safety state
//	quorum_proposals2/<view>-<n>.txt
//	                              one file per stored proposal (n numbers the
//	                              proposals of one view from 0)
//	hotshot_data_source/index     the commit log of the decided chain
//	hotshot_data_source/blocks-<id>.log
//	                              append-only segments of block records
//	anchor_leaf                   the last decided block (consensus-only mode,
//	                              instead of hotshot_data_source)
//	chain_state                   the chain-state snapshot (both modes)
//
// The top-level names are the reference node's; the contents are
// gospresso's own.
//
// # Atomic files
//
// The safety state and each proposal are written to a ".swp" file beside
// their final name, fsynced, renamed over the final name, and the directory
// is fsynced. A crash leaves either the old or the new file, never a mix;
// leftover ".swp" files are removed by Open.
//
// # Chain-state snapshot
//
// The store implements storage.StateStore with one file, chain_state: a
// single frame (as in the logs below: length, CRC-32C, body) whose body is
// a version byte (1), the snapshot's height (8 bytes, big-endian) and the
// snapshot. SaveState writes it like the safety state (".swp", fsync,
// rename, directory fsync), unless the stored height is greater. Open
// learns the stored height (reading and checking the file); a damaged file
// does not fail Open but is logged, LoadState reports it as [ErrCorrupt]
// naming the file, and the next SaveState, at any height, replaces it. It
// is kept in both modes.
//
// # The decided chain
//
// Every file of hotshot_data_source is a sequence of frames: a 4-byte
// big-endian body length, a 4-byte CRC-32C of the length and the body, then
// the body. A block is two adjacent frames in a segment: its leaf with the
// certificate (storagecodec.EncodeLeaf) and its payload. SaveDecided
//
//  1. appends the frames of every new block to the current segment (starting
//     a new one when the current one would pass the segment size) and
//     fsyncs it;
//  2. appends ONE frame to the index holding, for every block of the call,
//     where its frames are and everything the lookups need: height, view,
//     timestamp, leaf commitment, block hash, payload hash, payload size,
//     namespaces and transaction hashes; and fsyncs the index.
//
// The index frame is the commit point: a call is stored once its index
// frame is durable and not at all before, so a call is atomic however many
// blocks it carries. Open reads the index (not the segments) to rebuild the
// in-memory lookup tables, which keeps it fast: it never decodes a payload.
// A torn index tail (a frame cut short or never completed by a crash) is
// truncated; segment bytes past the last committed block are truncated and
// segments past the last committed one deleted. A segment truncated by hand
// into committed blocks drops the calls whose blocks it cut, so the store
// reopens with the chain that is still whole; damage anywhere else (a bad
// index frame followed by more data, a short segment that is not the last)
// is reported as [ErrCorrupt] rather than repaired by deleting data.
//
// Stored proposals up to the last decided view are dropped by SaveDecided
// in the same step: once the index frame is durable they are no longer
// returned, their files are deleted right after, and Open deletes any that
// a crash left behind.
//
// # Consensus-only mode
//
// Opened with [WithConsensusOnly], the store is a lightweight node's
// (docs/storage.md, "Modes"): it keeps the safety state, the proposals and the last decided
// block only, and its size does not grow with the chain. There is no
// hotshot_data_source; SaveDecided writes the last block of the call
// (storagecodec.EncodeBlock, checksummed) as a new anchor_leaf, atomically
// like the safety state, and the rename is its commit point, after which
// the proposals up to the block's view are dropped as above. Reads of the
// anchor (LastDecided, by height, leaf, block hash or payload hash, its
// transactions) work as in a full store; any lower height returns an
// error wrapping storage.ErrPruned, and so do ranges, counts and sums
// starting below the anchor; BlockHeight is the anchor's height + 1.
// Re-saved blocks below the anchor are skipped (there is nothing left to
// compare them with). The mode file records the mode at creation: a store
// opened in the other mode fails with [ErrModeMismatch] (a full store
// created before the mode file existed is recognised by its
// hotshot_data_source).
//
// # Memory and speed
//
// Lookups by height, leaf commitment, block hash, payload hash, transaction
// hash, namespace and timestamp are answered from in-memory tables
// followed by a single pread of the block's frames, so they do not slow
// down as the chain grows. Counts and payload sizes over ranges use prefix
// sums. The tables cost memory in proportion to the chain: about 150 MB
// for 100,000 blocks holding 1,000,000 transactions (most of it the
// transaction-hash table), rebuilt by Open from a 45 MB index in about
// 0.4 s.
//
// # Concurrency
//
// A Store is safe for concurrent use. Writes are serialized per kind (safety
// state, proposals, decided blocks); readers never wait for a write's
// fsync, only for the brief publication of its index entries. One process
// at a time: a second Open of the same directory, from this process or
// another, fails with an error wrapping storage.ErrLocked.
//
// After a failed write to the index (where the store cannot know whether
// the call was committed) the store refuses further writes with
// [ErrUnusable]; reopen it to continue from what is on disk.
package fs
