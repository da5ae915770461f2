package bus

import "errors"

// Sentinel errors; match them with errors.Is (bus wraps them with the failed operation).
var (
	// ErrNotFound: the message, KV key or object does not exist (or was deleted).
	ErrNotFound = errors.New("bus: not found")
	// ErrStreamNotFound: the named stream does not exist (Provision has not run).
	ErrStreamNotFound = errors.New("bus: stream not found")
	// ErrExists: KV Create found the key already present.
	ErrExists = errors.New("bus: key exists")
	// ErrRevisionMismatch: a KV Update or Delete expected a revision that is no longer the key's latest.
	ErrRevisionMismatch = errors.New("bus: revision mismatch")
	// ErrFenced: CommitAtomic was rejected because the fenced subject's last sequence is not the expected one
	// (another writer committed first). Nothing of the batch was stored.
	ErrFenced = errors.New("bus: fenced: expected last subject sequence does not match")
	// ErrAmbiguous: the outcome of CommitAtomic is unknown (timeout or disconnect around the commit). It wraps
	// the cause. The batch may have been stored, or may still be stored later; re-read before deciding.
	ErrAmbiguous = errors.New("bus: commit outcome unknown")
	// ErrNotConnected: the connection to NATS is down (it keeps reconnecting).
	ErrNotConnected = errors.New("bus: not connected")
	// ErrPartitionMismatch: USAGE_EVENTS records another partition count P than this service is configured
	// with; events on partitions the other services do not have would never be consumed. Provision and Ready
	// return it; fix --partitions (it must be the same on every service).
	ErrPartitionMismatch = errors.New("bus: partition count mismatch")
	// ErrRefused: the NATS server refused the connection's credentials (it answered an authorization
	// violation, or expired or revoked credentials, twice in a row, and the client gave up). Connect's error
	// matches it and says the server's reason and the kind of credentials presented (never their values).
	ErrRefused = errors.New("bus: the NATS server refused the credentials")
	// ErrStop, returned by Read's callback, ends Read early without an error.
	ErrStop = errors.New("bus: stop reading")
	// ErrNoResponders: a Request found nobody serving its subject.
	ErrNoResponders = errors.New("bus: no responders")
	// ErrInvalid: the call's arguments are invalid (empty batch, batch too large, missing subject...).
	ErrInvalid = errors.New("bus: invalid argument")
)
