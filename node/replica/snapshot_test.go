package replica

import (
	"errors"
	"testing"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// snapshotSetup is a one-member setup with two prefunded accounts.
func snapshotSetup(t testing.TB) *Setup {
	t.Helper()
	k, err := keys.DeriveKeys([32]byte{31: 9}, 0)
	if err != nil {
		t.Fatal(err)
	}
	g := &genesis.Genesis{
		BaseVersion: types.Version{Minor: 2}, UpgradeVersion: types.Version{Minor: 2}, StakeTableCapacity: 10,
		ChainConfig: types.ChainConfig{ChainID: types.NewU256(1), MaxBlockSize: 1000, BaseFee: types.NewU256(1)},
		Accounts:    map[types.Address]types.U256{{1: 1}: types.NewU256(5), {2: 2}: types.NewU256(7)},
		StakeTable: []genesis.StakeTableEntry{{StakingKey: k.Staking.PubKey(), StateKey: k.State.PubKey(), Stake: 1, DA: true,
			ProofOfPossession: k.Staking.ProvePossession()}},
	}
	s, err := NewSetup(g)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := snapshotSetup(t)
	data, err := encodeSnapshot(&s.GenesisBlock, s.GenesisState)
	if err != nil {
		t.Fatal(err)
	}
	b, st, err := decodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Leaf.Commit() != s.GenesisBlock.Leaf.Commit() || st.Balance(types.Address{2: 2}) != types.NewU256(7) {
		t.Fatal("the snapshot does not decode to what was encoded")
	}
	// A state that is not the block's is refused.
	other := snapshotSetup(t)
	other.GenesisBlock.Leaf.Header.FeeMerkleTreeRoot = []byte("another root")
	bad, err := encodeSnapshot(&other.GenesisBlock, s.GenesisState)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := decodeSnapshot(bad); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("mismatched roots: %v, want ErrBadSnapshot", err)
	}
	for _, n := range []int{0, 1, 4, 5, len(data) / 2, len(data) - 1} {
		if _, _, err := decodeSnapshot(data[:n]); !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("cut to %d bytes: %v, want ErrBadSnapshot", n, err)
		}
	}
}

func FuzzDecodeSnapshot(f *testing.F) {
	s := snapshotSetup(f)
	data, err := encodeSnapshot(&s.GenesisBlock, s.GenesisState)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte{snapshotVersion, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, st, err := decodeSnapshot(data)
		if err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("error %v does not wrap ErrBadSnapshot", err)
			}
			return
		}
		again, err := encodeSnapshot(&b, st)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := decodeSnapshot(again); err != nil {
			t.Fatalf("re-encoded snapshot does not decode: %v", err)
		}
	})
}
