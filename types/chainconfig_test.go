package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/internal/shared"
)

// sortedJSON re-encodes JSON with object keys sorted, numbers kept verbatim.
func sortedJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestChainConfigReferenceJSON(t *testing.T) {
	ref, err := os.ReadFile(filepath.Join(shared.Dir(t), "reference", "chain_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c ChainConfig
	if err := json.Unmarshal(ref, &c); err != nil {
		t.Fatal(err)
	}
	if c.ChainID != NewU256(35353) || c.MaxBlockSize != 10240 || !c.BaseFee.IsZero() {
		t.Errorf("decoded %+v", c)
	}
	// The zero address is a present fee contract, not an absent one.
	if c.FeeContract == nil || !c.FeeContract.IsZero() {
		t.Errorf("fee_contract = %v, want the zero address", c.FeeContract)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sortedJSON(t, out), sortedJSON(t, ref); !bytes.Equal(got, want) {
		t.Errorf("re-encoded:\n%s\nwant:\n%s", got, want)
	}
}

func TestChainConfigJSONShapes(t *testing.T) {
	addr := Address{0xab}
	c := ChainConfig{ChainID: NewU256(999999999), MaxBlockSize: 1000000, BaseFee: NewU256(1), FeeRecipient: addr}
	b, _ := json.Marshal(c)
	want := `{"base_fee":"1","chain_id":"999999999","fee_contract":null,` +
		`"fee_recipient":"0xab00000000000000000000000000000000000000","max_block_size":"1000000"}`
	if string(b) != want {
		t.Errorf("no optional fields:\n%s\nwant\n%s", b, want)
	}
	c.FeeContract, c.BidRecipient, c.StakeTableContract = &addr, &Address{1}, &Address{2}
	b, _ = json.Marshal(c)
	var back ChainConfig
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(c) {
		t.Fatalf("round trip %s: %+v, %v", b, back, err)
	}
	for _, key := range []string{`"bid_recipient":"0x01`, `"stake_table_contract":"0x02`, `"fee_contract":"0xab`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("%s lacks %s", b, key)
		}
	}
}

func TestChainConfigUnmarshalErrors(t *testing.T) {
	const rcpt = `"fee_recipient":"0x0000000000000000000000000000000000000000"`
	tests := map[string]string{
		"missing chain_id":       `{"max_block_size":"1","base_fee":"0",` + rcpt + `}`,
		"missing max_block_size": `{"chain_id":"1","base_fee":"0",` + rcpt + `}`,
		"missing base_fee":       `{"chain_id":"1","max_block_size":"1",` + rcpt + `}`,
		"missing fee_recipient":  `{"chain_id":"1","max_block_size":"1","base_fee":"0"}`,
		"unknown field":          `{"chain_id":"1","max_block_size":"1","base_fee":"0","extra":1,` + rcpt + `}`,
		"size too big":           `{"chain_id":"1","max_block_size":"18446744073709551616","base_fee":"0",` + rcpt + `}`,
		"bad address":            `{"chain_id":"1","max_block_size":"1","base_fee":"0","fee_recipient":"0x1"}`,
		"bad number":             `{"chain_id":"one","max_block_size":"1","base_fee":"0",` + rcpt + `}`,
		"not an object":          `[1]`,
	}
	for name, in := range tests {
		var c ChainConfig
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		}
	}
	var c ChainConfig
	err := json.Unmarshal([]byte(tests["missing base_fee"]), &c)
	if !errors.Is(err, ErrInvalidChainConfig) {
		t.Errorf("error %v does not wrap ErrInvalidChainConfig", err)
	}
	ok := `{"chain_id":"0x10","max_block_size":1024,"base_fee":"5",` + rcpt + `,"fee_contract":null}`
	if err := json.Unmarshal([]byte(ok), &c); err != nil || c.ChainID != NewU256(16) || c.MaxBlockSize != 1024 || c.FeeContract != nil {
		t.Errorf("lenient forms: %+v, %v", c, err)
	}
}

// TestChainConfigCommit checks the layout of docs/data.md, "Commitments",
// byte by byte.
func TestChainConfigCommit(t *testing.T) {
	recipient := Address{0x11}
	feeContract := Address{0x22}
	stake := Address{0x33}
	c := ChainConfig{ChainID: NewU256(35353), MaxBlockSize: 10240, BaseFee: NewU256(7), FeeRecipient: recipient}
	chainID, baseFee := NewU256(35353).littleEndian32(), NewU256(7).littleEndian32()
	base := [][]byte{
		cstr("CHAIN_CONFIG"),
		cstr("chain_id"), chainID[:],
		cstr("max_block_size"), le64(10240),
		cstr("base_fee"), baseFee[:],
		cstr("fee_recipient"), recipient[:],
	}
	if got, want := c.Commit(), keccak(base...); got != want {
		t.Errorf("no fee contract: %x, want %x", got, want)
	}
	c.FeeContract = &feeContract
	withFee := append(append([][]byte{}, base...), cstr("fee_contract"), le64(1), feeContract[:])
	if got, want := c.Commit(), keccak(withFee...); got != want {
		t.Errorf("fee contract: %x, want %x", got, want)
	}
	c.BidRecipient = &Address{0x44} // not committed
	if got, want := c.Commit(), keccak(withFee...); got != want {
		t.Errorf("bid recipient changed the commitment")
	}
	c.StakeTableContract = &stake
	withStake := append(withFee, cstr("stake_table_contract"), le64(1), stake[:])
	if got, want := c.Commit(), keccak(withStake...); got != want {
		t.Errorf("stake table contract: %x, want %x", got, want)
	}
	// The zero fee contract is present: it differs from an absent one.
	zero := ChainConfig{FeeContract: &Address{}}
	if zero.Commit() == (ChainConfig{}).Commit() {
		t.Error("zero fee contract commits like an absent one")
	}
}

func FuzzChainConfigJSON(f *testing.F) {
	f.Add([]byte(`{"base_fee":"0","chain_id":"35353","fee_contract":"0x0000000000000000000000000000000000000000","fee_recipient":"0x0000000000000000000000000000000000000000","max_block_size":"10240"}`))
	f.Add([]byte(`{"chain_id":"0x10","max_block_size":1024,"base_fee":"5","fee_recipient":"0x0000000000000000000000000000000000000000","bid_recipient":null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c ChainConfig
		if err := json.Unmarshal(b, &c); err != nil {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back ChainConfig
		if err := json.Unmarshal(out, &back); err != nil || !back.Equal(c) {
			t.Fatalf("round trip of %s via %s: %+v, %v", b, out, back, err)
		}
		if back.Commit() != c.Commit() {
			t.Fatal("commitment changed across a JSON round trip")
		}
	})
}
