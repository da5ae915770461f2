package natsembed

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Cluster is n embedded JetStream servers on loopback joined by routes.
type Cluster struct {
	nodes []*Server
}

// metaLeaderTimeout bounds how long StartCluster waits for a JetStream meta leader.
const metaLeaderTimeout = 30 * time.Second

// ErrNoMetaLeader is returned when a cluster elects no JetStream meta leader in time.
var ErrNoMetaLeader = errors.New("natsembed: no JetStream meta leader")

// StartCluster starts an n-node JetStream cluster with stores under baseDir/node<i> and waits for a meta leader.
func StartCluster(n int, baseDir string) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("natsembed: cluster size %d", n)
	}
	opts, err := clusterOptions(n, baseDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	for _, o := range opts {
		s, err := Start(o)
		if err != nil {
			c.Shutdown()
			return nil, err
		}
		c.nodes = append(c.nodes, s)
	}
	if err := c.WaitMetaLeader(metaLeaderTimeout); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// clusterOptions fixes every node's client and route ports up front so that every node knows all routes.
func clusterOptions(n int, baseDir string) ([]Options, error) {
	opts := make([]Options, n)
	routes := make([]string, n)
	for i := range opts {
		client, err := FreePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		route, err := FreePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		routes[i] = "nats-route://127.0.0.1:" + strconv.Itoa(route)
		opts[i] = Options{
			StoreDir: filepath.Join(baseDir, "node"+strconv.Itoa(i)),
			Port:     client,
			Name:     "usagepipe-n" + strconv.Itoa(i),
			Cluster:  &ClusterOptions{Name: "usagepipe", Port: route},
		}
	}
	for i := range opts {
		opts[i].Cluster.Routes = routes
	}
	return opts, nil
}

// WaitMetaLeader waits until one node is the JetStream meta leader, every running node is current, and the
// leader can place replicas on every running node.
func (c *Cluster) WaitMetaLeader(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c.metaReady() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ErrNoMetaLeader
}

func (c *Cluster) metaReady() bool {
	leaders, running, placeable := 0, 0, 0
	for _, s := range c.nodes {
		if !s.Running() {
			continue
		}
		running++
		current, leader, peers := s.jetStreamState()
		if !current {
			return false
		}
		if leader {
			leaders, placeable = leaders+1, peers
		}
	}
	return leaders == 1 && placeable >= running
}

// URLs is the comma-separated list of client URLs, the form nats.Connect (and bus.Config.URL) accepts.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.nodes))
	for i, s := range c.nodes {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

// Nodes returns the cluster's servers (each can be restarted or shut down alone).
func (c *Cluster) Nodes() []*Server { return append([]*Server(nil), c.nodes...) }

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	for _, s := range c.nodes {
		s.Shutdown()
	}
}
