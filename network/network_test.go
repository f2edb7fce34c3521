package network_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/network"
)

func TestCheckMessage(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr error
	}{
		{name: "empty", size: 0},
		{name: "small", size: 100},
		{name: "at limit", size: network.MaxMessageSize},
		{name: "one over limit", size: network.MaxMessageSize + 1, wantErr: network.ErrMessageTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := network.CheckMessage(make([]byte, tc.size))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("CheckMessage(%d bytes) = %v, want %v", tc.size, err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "67108865 bytes") {
				t.Errorf("error %q does not name the size", err)
			}
		})
	}
}

func TestCheckTopic(t *testing.T) {
	tests := []struct {
		topic   string
		wantErr error
	}{
		{topic: "", wantErr: network.ErrInvalidTopic},
		{topic: "consensus"},
		{topic: " "},
	}
	for _, tc := range tests {
		if err := network.CheckTopic(tc.topic); !errors.Is(err, tc.wantErr) {
			t.Errorf("CheckTopic(%q) = %v, want %v", tc.topic, err, tc.wantErr)
		}
	}
}

func TestMaxMessageSize(t *testing.T) {
	if network.MaxMessageSize != 64*1024*1024 {
		t.Fatalf("MaxMessageSize = %d, want 64 MiB", network.MaxMessageSize)
	}
}
