package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// Sentinel errors.
var (
	// ErrInvalidOption marks a bad option or module configuration.
	ErrInvalidOption = errors.New("api: invalid option")
	// ErrNotAvailable is returned by a Backend for data it does not have
	// and cannot fetch; the API answers 404.
	ErrNotAvailable = errors.New("api: not available")
	// ErrUnavailable is returned by a Backend that cannot serve right now
	// (a node stopping, or halted); the API answers 503.
	ErrUnavailable = errors.New("api: service unavailable")
)

// Error is an error with the HTTP status the API answers it with. Its
// body is {"status": N, "message": "..."}.
type Error struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Errorf returns an *Error with status and a formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// badRequest, notFound: the two statuses handlers use most.
func badRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, format, args...)
}

// toError maps what a handler returned to the answer: an *Error as it is,
// missing or pruned data 404, a full mempool 503, a transaction too large
// 400, a caller gone away 499-like (the connection is closed anyway), and
// anything else 500 (a bug or a failing store: logged, its text kept).
func toError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, ErrNotAvailable):
		return notFound("%v", err)
	case errors.Is(err, storage.ErrPruned):
		return Errorf(http.StatusNotFound, "%v (the node pruned it; ask an archival node)", err)
	case errors.Is(err, chain.ErrMempoolFull):
		return Errorf(http.StatusServiceUnavailable, "%v: try again later", err)
	case errors.Is(err, chain.ErrTransactionTooLarge), errors.Is(err, types.ErrInvalidTransaction):
		return badRequest("%v", err)
	case errors.Is(err, ErrUnavailable):
		return Errorf(http.StatusServiceUnavailable, "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Errorf(http.StatusServiceUnavailable, "%v", err)
	}
	return Errorf(http.StatusInternalServerError, "%v", err)
}
