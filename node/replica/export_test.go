package replica

// CatchupState exposes catchupState to the external tests.
var CatchupState = catchupState
