// Package deploy holds linli's deployment configuration: nginx.conf (N
// replicas behind nginx) and pgbouncer.ini (PgBouncer in transaction mode),
// as templates its tests fill with loopback ports. The tests run the server
// binary as built (go build ./server) behind them: three replicas, one
// killed with SIGKILL; the sign-up and live path through PgBouncer; and a
// streaming read replica that lags and dies.
package deploy
