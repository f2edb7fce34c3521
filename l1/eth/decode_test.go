package eth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/types"
)

// FuzzDecodeBlock: any eth_getBlockByNumber result decodes to a block or to
// an error wrapping l1.ErrMalformed, never a panic; a decoded block
// re-encodes to the same number, timestamp and hash.
func FuzzDecodeBlock(f *testing.F) {
	hash := "0x" + strings.Repeat("ab", 32)
	for _, seed := range []string{
		`null`, `{}`, `[]`, `"0x1"`, `{"number":"0x1","timestamp":"0x2","hash":"` + hash + `"}`,
		`{"number":"0x01","timestamp":"0x2","hash":"` + hash + `"}`,
		`{"number":"0xffffffffffffffff","timestamp":"0x` + strings.Repeat("f", 64) + `","hash":"` + hash + `"}`,
		`{"number":"0x1","timestamp":"0x1` + strings.Repeat("0", 64) + `","hash":"` + hash + `"}`,
		`{"number":null,"timestamp":null,"hash":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, found, err := decodeBlock(raw)
		if err != nil {
			if !errors.Is(err, l1.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !found {
			return
		}
		again, found, err := decodeBlock(json.RawMessage(fmt.Sprintf(`{"number":"0x%x","timestamp":%q,"hash":%q}`,
			b.Number, b.Timestamp.Hex(), b.Hash)))
		if err != nil || !found || again != b {
			t.Fatalf("re-decoding %+v gave %+v, %v, %v", b, again, found, err)
		}
	})
}

// FuzzDecodeDeposits: any eth_getLogs result decodes to deposits of the
// contract inside the range, in strict (block, log) order, or to an error
// wrapping l1.ErrMalformed, never a panic.
func FuzzDecodeDeposits(f *testing.F) {
	contract := types.Address{0xfe}
	good, _ := json.Marshal([]any{
		depositLog(contract, types.Address{1}, 3, 1, 10),
		depositLog(contract, types.Address{2}, 3, 0, 20),
		depositLog(contract, types.Address{3}, 9, 4, 30),
	})
	for _, seed := range []string{string(good), `null`, `[]`, `{}`, `[null]`, `[{}]`, `["x"]`,
		`[{"address":"` + contract.String() + `","topics":[],"data":"0x","blockNumber":"0x1","logIndex":"0x0"}]`} {
		f.Add([]byte(seed), uint64(1), uint64(10))
	}
	f.Fuzz(func(t *testing.T, raw []byte, from, to uint64) {
		deps, err := decodeDeposits(raw, contract, from, to)
		if err != nil {
			if !errors.Is(err, l1.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		for i, d := range deps {
			if d.Block < from || d.Block > to {
				t.Fatalf("deposit %d in block %d outside [%d, %d]", i, d.Block, from, to)
			}
			if i > 0 && l1.CompareDeposits(deps[i-1], d) >= 0 {
				t.Fatalf("deposits out of order at %d: %+v then %+v", i, deps[i-1], d)
			}
		}
	})
}

// TestDecodeDepositsOrder: logs are returned in (block, log) order whatever
// order the provider sent them in.
func TestDecodeDepositsOrder(t *testing.T) {
	contract := types.Address{0xfe}
	raw, _ := json.Marshal([]any{
		depositLog(contract, types.Address{3}, 9, 4, 30),
		depositLog(contract, types.Address{1}, 3, 1, 10),
		depositLog(contract, types.Address{2}, 3, 0, 20),
	})
	deps, err := decodeDeposits(raw, contract, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []l1.Deposit{
		{Account: types.Address{2}, Amount: types.NewU256(20), Block: 3, LogIndex: 0},
		{Account: types.Address{1}, Amount: types.NewU256(10), Block: 3, LogIndex: 1},
		{Account: types.Address{3}, Amount: types.NewU256(30), Block: 9, LogIndex: 4},
	}
	if len(deps) != len(want) {
		t.Fatalf("got %d deposits", len(deps))
	}
	for i := range want {
		if deps[i] != want[i] {
			t.Errorf("deposit %d = %+v, want %+v", i, deps[i], want[i])
		}
	}
}
