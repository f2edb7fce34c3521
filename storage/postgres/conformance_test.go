package postgres

import (
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

func TestConformance(t *testing.T) {
	testURI(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openStore(t, testConfig(t))
	})
}
