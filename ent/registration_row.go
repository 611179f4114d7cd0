package ent

// This file is written by hand (go generate leaves it alone).

import (
	"database/sql"

	"linli/ent/registration"
)

// RegistrationRow scans a registration out of hand-written SQL that selects
// registration.Columns in that order, so a statement that already produced
// the row (the sign-up statement's RETURNING) need not read it again. The
// registration it builds is bound to the client like one Ent loaded, so its
// edges resolve.
type RegistrationRow struct {
	client *RegistrationClient
	values []any
}

// Row returns scan targets for one registration.
func (c *RegistrationClient) Row() (*RegistrationRow, error) {
	values, err := (*Registration)(nil).scanValues(registration.Columns)
	if err != nil {
		return nil, err
	}
	return &RegistrationRow{client: c, values: values}, nil
}

// Dest is what to pass to Scan, in registration.Columns order.
func (r *RegistrationRow) Dest() []any { return r.values }

// Registration builds the scanned registration; nil when the row was all
// NULL (an outer join that found nothing).
func (r *RegistrationRow) Registration() (*Registration, error) {
	if id, ok := r.values[0].(*sql.NullInt64); !ok || !id.Valid {
		return nil, nil
	}
	m := &Registration{config: r.client.config}
	if err := m.assignValues(registration.Columns, r.values); err != nil {
		return nil, err
	}
	return m, nil
}
