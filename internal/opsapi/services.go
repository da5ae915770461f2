package opsapi

// Services are the operator services the API serves, in-process objects of the service layer (internal/lineage,
// internal/usage, internal/status, and the write side's). Each route set (routes_*.go) registers its routes
// only when its service is set; a route set is one line in NewHandler.
type Services struct {
	Lineage     Lineage     // explain/event, explain/record/{id}, explain/file/{id}
	Usage       Usage       // usage/{subscription}
	Status      Status      // status
	DeadLetters DeadLetters // deadletters, deadletters/{id}, deadletters/replay (POST)
	Parked      Parked      // parked, parked/{key}, parked/{key}/retry|resubmit|abandon (POST)
}

// NewHandler returns a server with the routes of every service given.
func NewHandler(o Options, svc Services) *Server {
	s := New(o)
	s.registerRead(svc)
	s.registerWrite(svc)
	return s
}
