package storagetest

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRunPattern(t *testing.T) {
	tests := []struct{ name, want string }{
		{"TestCrash", "^TestCrash$"},
		{"TestX/crash", "^TestX$/^crash$"},
		{"TestX/a.b(c)/d", `^TestX$/^a\.b\(c\)$/^d$`},
	}
	for _, tt := range tests {
		got := runPattern(tt.name)
		if got != tt.want {
			t.Errorf("runPattern(%q) = %q, want %q", tt.name, got, tt.want)
		}
		// Each level matches its own name only.
		for i, part := range strings.Split(got, "/") {
			name := strings.Split(tt.name, "/")[i]
			if re := regexp.MustCompile(part); !re.MatchString(name) || re.MatchString(name+"x") {
				t.Errorf("pattern %q does not select exactly %q", part, name)
			}
		}
	}
}

func TestCrashParams(t *testing.T) {
	p := crashParams{deadline: time.UnixMilli(1_700_000_000_123), txs: 20, txSize: 200, childSeed: 1 << 62}
	back, err := decodeCrashParams(p.encode())
	if err != nil || back != p {
		t.Fatalf("round trip: %+v, %v; want %+v", back, err, p)
	}
	for _, bad := range []string{"", "1,2,3", "1,2,3,4,5", "1,x,3,4", "1,2,3,99999999999999999999"} {
		if _, err := decodeCrashParams(bad); err == nil || !strings.Contains(err.Error(), envCrashParams) {
			t.Errorf("decodeCrashParams(%q) = %v, want an error naming %s", bad, err, envCrashParams)
		}
	}
}

func FuzzDecodeCrashParams(f *testing.F) {
	f.Add("1700000000123,20,200,42")
	f.Add("")
	f.Add("1,2,3,-4")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := decodeCrashParams(s)
		if err != nil {
			return
		}
		if _, err := decodeCrashParams(p.encode()); err != nil {
			t.Fatalf("re-encoded params rejected: %v", err)
		}
	})
}

func TestProgressWriter(t *testing.T) {
	w := newProgressWriter()
	input := "noise\n" + crashPrefix + "ready 5\n" + crashPrefix + "proposal 7\n" + crashPrefix + "safe" +
		"ty 9\n" + crashPrefix + "decided 8\n" + crashPrefix + "decided 6\n" + crashPrefix + "pruned 3\n" +
		crashPrefix + "bogus 100\n" + crashPrefix + "decided x\n" + crashPrefix + "decided 99"
	for i := 0; i < len(input); i += 7 { // arbitrary chunking
		w.Write([]byte(input[i:min(i+7, len(input))]))
	}
	select {
	case <-w.ready:
	default:
		t.Fatal("ready line not noticed")
	}
	got := w.progress()
	want := crashProgress{ready: true, writes: 5, height: 8, safetyView: 9, pruned: 3}
	if got != want {
		t.Errorf("progress = %+v, want %+v (an unterminated line does not count)", got, want)
	}
	if !strings.Contains(w.tail(), "noise") {
		t.Errorf("tail lost the child's other output: %q", w.tail())
	}
}

func FuzzProgressLines(f *testing.F) {
	f.Add(crashPrefix + "ready 5\n" + crashPrefix + "decided 8\n")
	f.Add(crashPrefix + "pruned -1\n\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		w := newProgressWriter()
		w.Write([]byte(s))
		p := w.progress()
		if p.writes < 0 {
			t.Fatal("negative write count")
		}
	})
}
