package types

// Block is a decided leaf with its payload and the certificate of it: what a
// node stores for each height and what it hands to its readers.
type Block struct {
	Leaf    Leaf
	Payload Payload
	QC      QuorumCertificate
}

// Height is the block's height.
func (b *Block) Height() uint64 { return b.Leaf.Header.Height }

// SafetyState is the consensus replica state that must survive a restart:
// the current view, the highest view in which the node may no longer cast a
// quorum vote, and its highest quorum certificate (docs/protocol.md,
// "Replica state").
type SafetyState struct {
	View          ViewNumber
	LastVotedView ViewNumber
	HighQC        QuorumCertificate
}
