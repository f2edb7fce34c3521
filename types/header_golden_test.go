package types_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/sha3"

	"github.com/gospresso/gospresso/internal/shared"
	"github.com/gospresso/gospresso/types"
)

func readReference(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shared.Dir(t), "reference", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// indented encodes v as the reference files are laid out: MarshalIndent
// with the file's indentation, plus the file's trailing newline if any.
func indented(t *testing.T, v any, indent, trailer string) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", indent)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, trailer...)
}

// The reference headers decode with every field and re-encode byte for
// byte (two-space indentation, no trailing newline).
func TestReferenceHeadersRoundTrip(t *testing.T) {
	for file, minor := range map[string]uint16{"header-v0.1.json": 1, "header-v0.2.json": 2} {
		ref := readReference(t, file)
		var h types.Header
		if err := json.Unmarshal(ref, &h); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got := indented(t, h, "  ", ""); !bytes.Equal(got, ref) {
			t.Errorf("%s: re-encoded differs:\n%s\nwant:\n%s", file, got, ref)
		}
		r, _ := types.ParseU256("0xa66e49fb371b83d36a6f326b95eb6146c397f3b037fd04b5f3c973d0e5624105")
		s, _ := types.ParseU256("0x43c6d12317c58dd8f831d34e2fa64bba04f51374ef7fce826121ba5dc5df64cf")
		if sig := h.BuilderSignature; sig == nil || sig.R != r || sig.S != s || sig.V != 27 {
			t.Errorf("%s: builder signature %+v", file, h.BuilderSignature)
		}
		if h.Version.Minor != minor || h.PayloadCommitmentTag != "" || h.PayloadTag() != types.TagPayload || h.ChainConfigCommitment != nil ||
			h.ChainConfig.ChainID != types.NewU256(35353) || h.L1Finalized == nil || h.L1Finalized.Timestamp != types.NewU256(0x456) {
			t.Errorf("%s: decoded to %+v", file, h)
		}
	}
}

// Header.Commit of each reference header equals the BLOCK commitment
// computed from the file's JSON by refHeaderCommit, an implementation of
// docs/data.md, "Commitments" that shares no code with package types. The
// block hashes are pinned too (as refHeaderCommit computes them; the
// reference files come without one), so a change to either shows.
func TestReferenceHeaderCommitments(t *testing.T) {
	want := map[string]string{
		"header-v0.1.json": "BLOCK~dh1KpdvvxSvnnPpOi2yI3DOg8h6ltr2Kv13iRzbQvtN2",
		"header-v0.2.json": "BLOCK~V0GJjL19nCrlm9n1zZ6gaOKEekSMCT6uR5P-h7Gi6UJR",
	}
	for file, tb64 := range want {
		ref := readReference(t, file)
		var h types.Header
		if err := json.Unmarshal(ref, &h); err != nil {
			t.Fatal(err)
		}
		indep := refHeaderCommit(t, ref)
		if got := h.Commit(); got != indep {
			t.Errorf("%s: Header.Commit %s, independent computation %x", file, got, indep)
		}
		if got := h.Commit().Tagged(types.TagBlock).String(); got != tb64 {
			t.Errorf("%s: block hash %s, want %s", file, got, tb64)
		}
	}
}

// withRight returns the reference header JSON with its chain config
// replaced by {"Right": "CHAIN_CONFIG~…"} of the same chain config.
func withRight(t testing.TB, ref []byte) ([]byte, types.Commitment) {
	t.Helper()
	var h types.Header
	if err := json.Unmarshal(ref, &h); err != nil {
		t.Fatal(err)
	}
	c := types.Commitment(h.ChainConfig.Commit())
	start := bytes.Index(ref, []byte(`"Left": {`))
	end := start + bytes.IndexByte(ref[start:], '}') + 1
	if start < 0 || end <= start {
		t.Fatal("no Left chain config in the reference header")
	}
	out := append(append(append([]byte(nil), ref[:start]...), `"Right": "`+c.Tagged(types.TagChainConfig).String()+`"`...), ref[end:]...)
	return out, c
}

// A chain config given by its commitment (after an upgrade) decodes into
// ChainConfigCommitment, round-trips byte for byte, and commits like the
// full chain config it stands for.
func TestHeaderRightChainConfig(t *testing.T) {
	for _, file := range []string{"header-v0.1.json", "header-v0.2.json"} {
		ref := readReference(t, file)
		var left types.Header
		if err := json.Unmarshal(ref, &left); err != nil {
			t.Fatal(err)
		}
		doc, c := withRight(t, ref)
		var h types.Header
		if err := json.Unmarshal(doc, &h); err != nil {
			t.Fatalf("%s: %v\n%s", file, err, doc)
		}
		if h.ChainConfigCommitment == nil || *h.ChainConfigCommitment != c || !h.ChainConfig.Equal(types.ChainConfig{}) {
			t.Errorf("%s: chain config %+v, commitment %v", file, h.ChainConfig, h.ChainConfigCommitment)
		}
		if got := indented(t, h, "  ", ""); !bytes.Equal(got, doc) {
			t.Errorf("%s: re-encoded differs:\n%s\nwant:\n%s", file, got, doc)
		}
		if h.Commit() != left.Commit() || h.Commit() != refHeaderCommit(t, doc) || h.ChainConfigCommit() != left.ChainConfigCommit() {
			t.Errorf("%s: Right chain config changed the header commitment", file)
		}
	}
}

// A payload commitment with another tag keeps it through JSON; the tag is
// not committed.
func TestHeaderPayloadTag(t *testing.T) {
	ref := readReference(t, "header-v0.2.json")
	var h types.Header
	if err := json.Unmarshal(ref, &h); err != nil {
		t.Fatal(err)
	}
	old := h.PayloadCommitment.Tagged(types.TagPayload).String()
	doc := bytes.Replace(ref, []byte(old), []byte(h.PayloadCommitment.Tagged(types.TagAvidM).String()), 1)
	var avid types.Header
	if err := json.Unmarshal(doc, &avid); err != nil {
		t.Fatal(err)
	}
	if avid.PayloadCommitmentTag != types.TagAvidM || avid.PayloadTag() != types.TagAvidM || avid.PayloadCommitment != h.PayloadCommitment {
		t.Errorf("payload commitment %x tag %q", avid.PayloadCommitment, avid.PayloadCommitmentTag)
	}
	if got := indented(t, avid, "  ", ""); !bytes.Equal(got, doc) {
		t.Errorf("re-encoded differs:\n%s", got)
	}
	if avid.Commit() != h.Commit() {
		t.Error("the payload tag changed the header commitment")
	}
	// An explicit "HASH" and "" are the same tag.
	h.PayloadCommitmentTag = types.TagPayload
	if got := indented(t, h, "  ", ""); !bytes.Equal(got, ref) {
		t.Errorf("explicit HASH tag:\n%s", got)
	}
}

func TestBuilderSignatureJSON(t *testing.T) {
	sig := types.BuilderSignature{R: types.NewU256(0x1234), S: types.NewU256(1), V: 28}
	b, err := json.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"r":"0x` + strings.Repeat("0", 60) + `1234","s":"0x` + strings.Repeat("0", 63) + `1","v":28}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	// Leading zeros may be left out; the re-encoding pads them.
	var back types.BuilderSignature
	if err := json.Unmarshal([]byte(`{"r":"0x1234","s":"0x01","v":28}`), &back); err != nil || back != sig {
		t.Errorf("short hex: %+v, %v", back, err)
	}
	for _, bad := range []string{
		`{"r":"0x1","s":"0x1"}`,
		`{"r":"1","s":"0x1","v":27}`,
		`{"r":"0x","s":"0x1","v":27}`,
		`{"r":"0x1` + strings.Repeat("0", 64) + `","s":"0x1","v":27}`,
		`{"r":"0x1","s":"0xzz","v":27}`,
		`{"r":"0x1","s":"0x1","v":27,"yParity":"0x0"}`,
	} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// The reference chain config, fee info, namespace table and payload
// re-encode byte for byte with their files' layout; the reference L1 block
// lists its keys out of alphabetical order, so it is compared with keys
// sorted (headers list l1_finalized's keys alphabetically).
func TestReferenceObjectsRoundTrip(t *testing.T) {
	tests := []struct {
		file             string
		v                any
		indent, trailer  string
		sortedComparison bool
	}{
		{"chain_config.json", &types.ChainConfig{}, "    ", "\n", false},
		{"fee_info.json", &types.FeeInfo{}, "\t", "\n", false},
		{"ns_table.json", &types.NsTable{}, "  ", "", false},
		{"payload.json", &types.Payload{}, "  ", "", false},
		{"l1_block.json", &types.L1BlockInfo{}, "    ", "\n", true},
	}
	for _, tt := range tests {
		ref := readReference(t, tt.file)
		if err := json.Unmarshal(ref, tt.v); err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		got := indented(t, tt.v, tt.indent, tt.trailer)
		want := ref
		if tt.sortedComparison {
			got, want = sortKeys(t, got), sortKeys(t, ref)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: re-encoded differs:\n%s\nwant:\n%s", tt.file, got, want)
		}
	}
	var l1 types.L1BlockInfo
	_ = json.Unmarshal(readReference(t, "l1_block.json"), &l1)
	if l1.Number != 123 || l1.Timestamp != types.NewU256(0x456) || l1.Hash.String() != "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
		t.Errorf("l1 block %+v", l1)
	}
}

func sortKeys(t *testing.T, b []byte) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return out
}

// ---- An independent implementation of the header commitment ----
//
// refHeaderCommit follows docs/data.md, "Commitments" step by step from a
// header's JSON, with its own Keccak builder and value parsing, so that a
// mistake in package types cannot hide behind itself.

type refBuilder struct{ b []byte }

func (r *refBuilder) constant(s string) *refBuilder {
	r.b = append(append(r.b, s...), 0xC0, 0x7F)
	return r
}
func (r *refBuilder) raw(p []byte) *refBuilder { r.b = append(r.b, p...); return r }
func (r *refBuilder) u64(name string, n uint64) *refBuilder {
	return r.constant(name).raw(binary.LittleEndian.AppendUint64(nil, n))
}
func (r *refBuilder) u256(name string, n *big.Int) *refBuilder {
	be := n.FillBytes(make([]byte, 32))
	le := make([]byte, 32)
	for i := range be {
		le[i] = be[31-i]
	}
	return r.constant(name).raw(le)
}
func (r *refBuilder) fixed(name string, p []byte) *refBuilder { return r.constant(name).raw(p) }
func (r *refBuilder) varSize(name string, p []byte) *refBuilder {
	return r.constant(name).raw(binary.LittleEndian.AppendUint64(nil, uint64(len(p)))).raw(p)
}
func (r *refBuilder) digest() []byte {
	k := sha3.NewLegacyKeccak256()
	k.Write(r.b)
	return k.Sum(nil)
}

func newRef(tag string) *refBuilder { return (&refBuilder{}).constant(tag) }

func refHeaderCommit(t *testing.T, doc []byte) [32]byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var top map[string]any
	if err := d.Decode(&top); err != nil {
		t.Fatal(err)
	}
	fields, major, minor := top, uint64(0), uint64(1)
	if v, ok := top["version"]; ok {
		ver := v.(map[string]any)["Version"].(map[string]any)
		major, minor = refUint(t, ver["major"]), refUint(t, ver["minor"])
		fields = top["fields"].(map[string]any)
	}

	var chainConfig []byte
	cc := fields["chain_config"].(map[string]any)["chain_config"].(map[string]any)
	if right, ok := cc["Right"]; ok {
		chainConfig = refTB64(t, right.(string))
	} else {
		left := cc["Left"].(map[string]any)
		c := newRef("CHAIN_CONFIG").
			u256("chain_id", refBig(t, left["chain_id"])).
			u64("max_block_size", refBig(t, left["max_block_size"]).Uint64()).
			u256("base_fee", refBig(t, left["base_fee"])).
			fixed("fee_recipient", refHex(t, left["fee_recipient"]))
		if fc, ok := left["fee_contract"]; ok && fc != nil {
			c.u64("fee_contract", 1).raw(refHex(t, fc))
		}
		if st, ok := left["stake_table_contract"]; ok && st != nil {
			c.u64("stake_table_contract", 1).raw(refHex(t, st))
		}
		chainConfig = c.digest()
	}

	b := newRef("BLOCK").
		fixed("chain_config", chainConfig).
		u64("height", refUint(t, fields["height"])).
		u64("timestamp", refUint(t, fields["timestamp"])).
		u64("l1_head", refUint(t, fields["l1_head"]))
	if l1, ok := fields["l1_finalized"].(map[string]any); ok {
		l1c := newRef("L1BLOCK").
			u64("number", refUint(t, l1["number"])).
			u256("timestamp", refBig(t, l1["timestamp"])).
			fixed("hash", refHex(t, l1["hash"])).digest()
		b.fixed("l1_finalized", l1c)
	} else {
		b.u64("l1_finalized", 0)
	}
	b.constant("payload_commitment").raw(refTB64(t, fields["payload_commitment"].(string)))
	b.constant("builder_commitment").raw(refTB64(t, fields["builder_commitment"].(string)))
	ns, err := base64.StdEncoding.DecodeString(fields["ns_table"].(map[string]any)["bytes"].(string))
	if err != nil {
		t.Fatal(err)
	}
	nsc := newRef("NSTABLE").raw(binary.LittleEndian.AppendUint64(nil, uint64(len(ns)))).raw(ns).digest()
	b.fixed("ns_table", nsc)
	b.varSize("block_merkle_tree_root", refTB64(t, fields["block_merkle_tree_root"].(string)))
	b.varSize("fee_merkle_tree_root", refTB64(t, fields["fee_merkle_tree_root"].(string)))
	fee := fields["fee_info"].(map[string]any)
	feec := newRef("FEE_INFO").fixed("account", refHex(t, fee["account"])).u256("amount", refBig(t, fee["amount"])).digest()
	b.fixed("fee_info", feec)
	inner := b.digest()
	if major == 0 && minor <= 1 {
		return [32]byte(inner)
	}
	return [32]byte(newRef("BLOCK").u64("version_major", major).u64("version_minor", minor).fixed("fields", inner).digest())
}

func refUint(t *testing.T, v any) uint64 {
	t.Helper()
	n, ok := new(big.Int).SetString(string(v.(json.Number)), 10)
	if !ok || !n.IsUint64() {
		t.Fatalf("not a u64: %v", v)
	}
	return n.Uint64()
}

// refBig parses a decimal or 0x-hex string.
func refBig(t *testing.T, v any) *big.Int {
	t.Helper()
	s := v.(string)
	base := 10
	if strings.HasPrefix(s, "0x") {
		s, base = s[2:], 16
	}
	n, ok := new(big.Int).SetString(s, base)
	if !ok {
		t.Fatalf("not a number: %q", v)
	}
	return n
}

func refHex(t *testing.T, v any) []byte {
	t.Helper()
	p, err := hex.DecodeString(strings.TrimPrefix(v.(string), "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// refTB64 returns the value of TAG~DATA: DATA is unpadded base64url of the
// value followed by one checksum byte.
func refTB64(t *testing.T, s string) []byte {
	t.Helper()
	_, data, ok := strings.Cut(s, "~")
	p, err := base64.RawURLEncoding.DecodeString(data)
	if !ok || err != nil || len(p) == 0 {
		t.Fatalf("not TaggedBase64: %q", s)
	}
	return p[:len(p)-1]
}
