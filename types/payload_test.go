package types

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/internal/shared"
)

// referencePayload loads the reference payload (docs/data.md, "Payloads and
// namespace tables") from the shared
// test data.
func referencePayload(t testing.TB) Payload {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shared.Dir(t), "reference", "payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		NsTable struct {
			Bytes string `json:"bytes"`
		} `json:"ns_table"`
		RawPayload string `json:"raw_payload"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	p := Payload{}
	if p.Raw, err = base64.StdEncoding.DecodeString(raw.RawPayload); err != nil {
		t.Fatal(err)
	}
	if p.NsTable.Bytes, err = base64.StdEncoding.DecodeString(raw.NsTable.Bytes); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReferencePayloadLayout(t *testing.T) {
	p := referencePayload(t)
	entries, err := p.NsTable.Entries(len(p.Raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []NsEntry{{12648430, 0, 1564}, {314159265, 1564, 3648}, {2718281828, 3648, 5212}}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	for i := range want {
		if entries[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, entries[i], want[i])
		}
	}
	txs, err := p.Transactions()
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) == 0 {
		t.Fatal("no transactions decoded")
	}
	// Laying the same transactions out again reproduces the reference bytes.
	again, err := EncodePayload(txs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Raw, p.Raw) || !bytes.Equal(again.NsTable.Bytes, p.NsTable.Bytes) {
		t.Fatal("re-encoding the reference transactions does not reproduce the reference payload")
	}
	ns, err := p.Namespace(314159265)
	if err != nil || len(ns) == 0 {
		t.Fatalf("namespace 314159265: %d transactions, %v", len(ns), err)
	}
	if none, err := p.Namespace(7); err != nil || none != nil {
		t.Fatalf("absent namespace: %v, %v", none, err)
	}
}

func TestReferenceTransaction(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(shared.Dir(t), "reference", "transaction.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tx Transaction
	if err := json.Unmarshal(b, &tx); err != nil {
		t.Fatal(err)
	}
	if tx.Namespace != 12648430 || len(tx.Payload) == 0 {
		t.Fatalf("decoded %+v", tx)
	}
	out, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	var back Transaction
	if err := json.Unmarshal(out, &back); err != nil || back.Namespace != tx.Namespace || !bytes.Equal(back.Payload, tx.Payload) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestTransactionCommitmentVector(t *testing.T) {
	// docs/data.md, "Transactions"; computed with the Espresso Go client.
	tx := Transaction{Namespace: 42, Payload: []byte("hi")}
	if got := tx.Hash().String(); got != "TX~qOF0p1P0cuOKQ86DdEM7EANNB5cuQAO-AtSB1rfhr1Vn" {
		t.Fatalf("commitment %s", got)
	}
}

func TestTransactionJSONErrors(t *testing.T) {
	for _, in := range []string{`{}`, `{"namespace": 1}`, `{"payload": ""}`, `{"namespace": 1, "payload": "%%"}`, `[]`, `{"namespace": -1, "payload": ""}`} {
		var tx Transaction
		if err := json.Unmarshal([]byte(in), &tx); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
	if err := (Transaction{Namespace: 1 << 32}).Validate(); !errors.Is(err, ErrInvalidTransaction) {
		t.Errorf("namespace beyond 32 bits: %v", err)
	}
}

func TestMalformedPayloads(t *testing.T) {
	good, err := EncodePayload([]Transaction{{Namespace: 1, Payload: []byte("abc")}, {Namespace: 2, Payload: []byte("de")}})
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Payload{
		"short table":      {Raw: good.Raw, NsTable: NsTable{Bytes: good.NsTable.Bytes[:3]}},
		"count mismatch":   {Raw: good.Raw, NsTable: NsTable{Bytes: append([]byte{9, 0, 0, 0}, good.NsTable.Bytes[4:]...)}},
		"trailing payload": {Raw: append(append([]byte(nil), good.Raw...), 0), NsTable: good.NsTable},
		"short payload":    {Raw: good.Raw[:len(good.Raw)-1], NsTable: good.NsTable},
		"duplicate ns":     {Raw: good.Raw, NsTable: NsTable{Bytes: []byte{2, 0, 0, 0, 1, 0, 0, 0, 11, 0, 0, 0, 1, 0, 0, 0, 21, 0, 0, 0}}},
	} {
		if _, err := p.Transactions(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzPayload(f *testing.F) {
	good, _ := EncodePayload([]Transaction{{Namespace: 1, Payload: []byte("abc")}, {Namespace: 2, Payload: []byte("de")}, {Namespace: 1}})
	f.Add(good.Raw, good.NsTable.Bytes)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 0, 0, 0, 255, 255, 255, 255}, []byte{1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw, table []byte) {
		p := Payload{Raw: raw, NsTable: NsTable{Bytes: table}}
		txs, err := p.Transactions()
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a payload with the same transactions.
		again, err := EncodePayload(txs)
		if err != nil {
			t.Fatalf("decoded transactions do not encode: %v", err)
		}
		back, err := again.Transactions()
		if err != nil || len(back) != len(txs) {
			t.Fatalf("re-encoded payload: %d transactions, %v; want %d", len(back), err, len(txs))
		}
	})
}
