package nodetest_test

import (
	"errors"
	"testing"

	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

// A fault fires on the After+1-th matching write only, once; a lost write
// stores nothing, an unacknowledged one stores everything; both fail with
// ErrInjectedFault.
func TestFaultyStore(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		mode   nodetest.FaultMode
		stored types.ViewNumber // the view stored after the failed write
	}{
		{nodetest.LostWrite, 2},
		{nodetest.UnacknowledgedWrite, 3},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			st := nodetest.NewFaultyStore()
			st.Arm(nodetest.StoreFault{Op: nodetest.OpSaveSafety, Mode: tc.mode, After: 2})
			if err := st.SaveSafety(ctx, types.SafetyState{View: 1}); err != nil {
				t.Fatalf("first write (After 2): %v", err)
			}
			if err := st.SaveSafety(ctx, types.SafetyState{View: 2}); err != nil {
				t.Fatalf("second write: %v", err)
			}
			// Other kinds of write do not count.
			if _, err := st.LoadProposals(ctx); err != nil {
				t.Fatal(err)
			}
			err := st.SaveSafety(ctx, types.SafetyState{View: 3})
			if !errors.Is(err, nodetest.ErrInjectedFault) {
				t.Fatalf("third write: %v, want ErrInjectedFault", err)
			}
			s, err := st.LoadSafety(ctx)
			if err != nil || s.View != tc.stored {
				t.Fatalf("after a %s write: view %d (%v), want %d", tc.mode, s.View, err, tc.stored)
			}
			if st.Armed() || len(st.Fired()) != 1 {
				t.Fatalf("armed %v, fired %v: want one fault, fired once", st.Armed(), st.Fired())
			}
			if err := st.SaveSafety(ctx, types.SafetyState{View: 4}); err != nil {
				t.Fatalf("write after the fault: %v", err)
			}
		})
	}
}
