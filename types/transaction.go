package types

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
)

// Transaction is an opaque rollup transaction tagged with the namespace
// (rollup) it belongs to.
type Transaction struct {
	Namespace uint64
	Payload   []byte
}

// transactionJSON is the wire shape of docs/data.md, "Transactions": both fields required.
type transactionJSON struct {
	Namespace *uint64 `json:"namespace"`
	Payload   *string `json:"payload"`
}

// MarshalJSON encodes t as {"namespace": N, "payload": "<std base64>"}.
func (t Transaction) MarshalJSON() ([]byte, error) {
	p := base64.StdEncoding.EncodeToString(t.Payload)
	return json.Marshal(transactionJSON{Namespace: &t.Namespace, Payload: &p})
}

// UnmarshalJSON decodes the shape of MarshalJSON; both fields are required.
func (t *Transaction) UnmarshalJSON(b []byte) error {
	var raw transactionJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("transaction: %w", err)
	}
	if raw.Namespace == nil {
		return fmt.Errorf("transaction: missing field \"namespace\"")
	}
	if raw.Payload == nil {
		return fmt.Errorf("transaction: missing field \"payload\"")
	}
	p, err := base64.StdEncoding.DecodeString(*raw.Payload)
	if err != nil {
		return fmt.Errorf("transaction: payload: %w (want standard base64 with padding)", err)
	}
	t.Namespace, t.Payload = *raw.Namespace, p
	return nil
}

// Validate checks what every transaction must satisfy on any chain: the
// namespace fits the u32 of the namespace table (docs/data.md, "Payloads and
// namespace tables").
func (t Transaction) Validate() error {
	if t.Namespace > math.MaxUint32 {
		return fmt.Errorf("%w: namespace %d does not fit in 32 bits", ErrInvalidTransaction, t.Namespace)
	}
	return nil
}

// Commit returns the reference transaction commitment (docs/data.md,
// "Commitments"; tag TX).
func (t Transaction) Commit() Commitment {
	b := NewCommitmentBuilder("Transaction")
	b.U64Field("namespace", t.Namespace)
	b.VarSizeBytes(t.Payload)
	return Commitment(b.Finalize())
}

// Hash returns the commitment in its TaggedBase64 text form, "TX~...".
func (t Transaction) Hash() TaggedBase64 {
	c := t.Commit()
	return TaggedBase64{Tag: "TX", Value: c[:]}
}
