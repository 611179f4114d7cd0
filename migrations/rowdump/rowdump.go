// Package rowdump reads every row of linli's tables into a form that does
// not depend on the database (times as UTC RFC 3339, JSON re-encoded with
// sorted keys, bytes as base64, booleans as booleans), and writes such rows
// back. The upgrade test compares a database's rows before and after a
// migration with it; its fixtures were dumped with it by the code of the
// release they come from.
package rowdump

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
)

// Table is one table's rows, each a list of values in Columns' order.
type Table struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Dump reads every row of tables (Ent's migrate.Tables) from db, ordered
// by primary key. postgres selects $n placeholders (unused here) and the
// quoting.
func Dump(ctx context.Context, db *sql.DB, tables []*schema.Table) (map[string]*Table, error) {
	out := map[string]*Table{}
	for _, t := range tables {
		tab := &Table{}
		var order []string
		for _, c := range t.Columns {
			tab.Columns = append(tab.Columns, c.Name)
		}
		for _, c := range t.PrimaryKey {
			order = append(order, quote(c.Name))
		}
		if len(order) == 0 {
			order = []string{"1"}
		}
		q := "SELECT " + quoteAll(tab.Columns) + " FROM " + quote(t.Name) + " ORDER BY " + strings.Join(order, ", ")
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("rowdump: %s: %w", t.Name, err)
		}
		for rows.Next() {
			vals := make([]any, len(t.Columns))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("rowdump: %s: %w", t.Name, err)
			}
			for i, c := range t.Columns {
				v, err := normal(c.Type, vals[i])
				if err != nil {
					rows.Close()
					return nil, fmt.Errorf("rowdump: %s.%s: %w", t.Name, c.Name, err)
				}
				vals[i] = v
			}
			tab.Rows = append(tab.Rows, vals)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out[t.Name] = tab
	}
	return out, nil
}

// Load inserts the rows of dump into db (a database at the schema they
// were dumped from), with foreign keys unchecked while loading (the rows
// are a consistent database, loaded in any table order), and moves
// PostgreSQL's id sequences past them.
func Load(ctx context.Context, db *sql.DB, postgres bool, tables []*schema.Table, dump map[string]*Table) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	types := map[string]map[string]field.Type{}
	for _, t := range tables {
		types[t.Name] = map[string]field.Type{}
		for _, c := range t.Columns {
			types[t.Name][c.Name] = c.Type
		}
	}
	if postgres {
		_, err = conn.ExecContext(ctx, "SET session_replication_role = replica")
	} else {
		_, err = conn.ExecContext(ctx, "PRAGMA foreign_keys = off")
	}
	if err != nil {
		return err
	}
	defer func() {
		if postgres {
			conn.ExecContext(context.Background(), "SET session_replication_role = DEFAULT") //nolint:errcheck
		} else {
			conn.ExecContext(context.Background(), "PRAGMA foreign_keys = on") //nolint:errcheck
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	names := make([]string, 0, len(dump))
	for n := range dump {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		tab := dump[name]
		if len(tab.Rows) == 0 {
			continue
		}
		// Many rows per statement: one round trip per batch, under both
		// databases' limits on bound parameters.
		per := max(1, 2000/len(tab.Columns))
		for lo := 0; lo < len(tab.Rows); lo += per {
			batch := tab.Rows[lo:min(lo+per, len(tab.Rows))]
			var q strings.Builder
			q.WriteString("INSERT INTO " + quote(name) + " (" + quoteAll(tab.Columns) + ") VALUES ")
			args := make([]any, 0, len(batch)*len(tab.Columns))
			for k, r := range batch {
				if k > 0 {
					q.WriteString(", ")
				}
				q.WriteByte('(')
				for i, v := range r {
					if i > 0 {
						q.WriteString(", ")
					}
					if postgres {
						fmt.Fprintf(&q, "$%d", len(args)+1)
					} else {
						q.WriteByte('?')
					}
					a, err := native(types[name][tab.Columns[i]], v)
					if err != nil {
						return fmt.Errorf("rowdump: %s.%s: %w", name, tab.Columns[i], err)
					}
					args = append(args, a)
				}
				q.WriteByte(')')
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("rowdump: insert into %s: %w", name, err)
			}
		}
		if _, hasID := types[name]["id"]; postgres && hasID {
			if _, err := tx.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+name+"', 'id'), (SELECT max(id) FROM "+quote(name)+"))"); err != nil {
				return fmt.Errorf("rowdump: sequence of %s: %w", name, err)
			}
		}
	}
	return tx.Commit()
}

func quote(s string) string { return `"` + s + `"` }

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quote(c)
	}
	return strings.Join(q, ", ")
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

// normal is v, as the driver scanned it, in the dump's form for a column
// of type t.
func normal(t field.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok && t != field.TypeBytes {
		v = string(b)
	}
	switch t {
	case field.TypeBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		}
	case field.TypeTime:
		switch x := v.(type) {
		case time.Time:
			return timeText(x), nil
		case string:
			for _, l := range timeLayouts {
				if tm, err := time.Parse(l, x); err == nil {
					return timeText(tm), nil
				}
			}
		}
	case field.TypeJSON:
		if s, ok := v.(string); ok {
			var x any
			if err := json.Unmarshal([]byte(s), &x); err != nil {
				return nil, err
			}
			b, err := json.Marshal(x)
			return string(b), err
		}
	case field.TypeBytes:
		switch x := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(x), nil
		case string:
			return base64.StdEncoding.EncodeToString([]byte(x)), nil
		}
	case field.TypeFloat32, field.TypeFloat64:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case field.TypeInt, field.TypeInt8, field.TypeInt16, field.TypeInt32, field.TypeInt64,
		field.TypeUint, field.TypeUint8, field.TypeUint16, field.TypeUint32, field.TypeUint64:
		if x, ok := v.(int64); ok {
			return x, nil
		}
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unexpected %T for a %s column", v, t)
}

// timeText is a time in the dump: UTC, to the microsecond (PostgreSQL's
// precision; SQLite keeps nanoseconds).
func timeText(t time.Time) string {
	return t.UTC().Round(time.Microsecond).Format(time.RFC3339Nano)
}

// Time is a dumped time value as the dump writes it now (fixtures written
// before times were rounded to the microsecond hold nanoseconds).
func Time(v any) any {
	if s, ok := v.(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return timeText(t)
		}
	}
	return v
}

// native is a dump value as an argument for a column of type t.
func native(t field.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case field.TypeTime:
		t, err := time.Parse(time.RFC3339Nano, v.(string))
		// Rounded here, not by PostgreSQL, so that the stored value is
		// exactly the one Dump writes.
		return t.Round(time.Microsecond), err
	case field.TypeBytes:
		return base64.StdEncoding.DecodeString(v.(string))
	case field.TypeBool:
		return v.(bool), nil
	case field.TypeInt, field.TypeInt8, field.TypeInt16, field.TypeInt32, field.TypeInt64,
		field.TypeUint, field.TypeUint8, field.TypeUint16, field.TypeUint32, field.TypeUint64:
		switch x := v.(type) {
		case json.Number:
			return x.Int64()
		case float64:
			return int64(x), nil
		case int64:
			return x, nil
		}
	case field.TypeFloat32, field.TypeFloat64:
		switch x := v.(type) {
		case json.Number:
			return x.Float64()
		case float64:
			return x, nil
		}
	}
	return v, nil
}
