package apperr

// Codes of trusted documents (the trusted package), kept apart from the
// main list only to spare it merge churn; they are part of the one
// vocabulary and documented with it.
const (
	// OperationNotTrusted: trusted documents are on and the request's
	// document is not on the deployment's list.
	OperationNotTrusted Code = "OPERATION_NOT_TRUSTED"
	// PersistedQueryNotFound: a request sent only a document hash that is
	// not known; Apollo's PersistedQueryLink answers it by sending the
	// document in full.
	PersistedQueryNotFound Code = "PERSISTED_QUERY_NOT_FOUND"
)

// PersistedQueryNotSupported: a request sent only a document hash and this
// server keeps no persisted queries (switched off); Apollo's
// PersistedQueryLink then sends documents in full.
const PersistedQueryNotSupported Code = "PERSISTED_QUERY_NOT_SUPPORTED"
