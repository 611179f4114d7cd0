package rights

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/xuri/excelize/v2"

	"linli/apperr"
	"linli/gid"
	"linli/reqlog"
)

// MyDataPath is where a signed-in person downloads their data.
const MyDataPath = "/me/data"

// Register adds GET /me/data?format=json|xlsx to mux, wrapped by auth
// (which puts the bearer token's viewer in the request context).
func (s *Service) Register(mux *http.ServeMux, ids *gid.Codec, auth func(http.Handler) http.Handler) {
	mux.Handle("GET "+MyDataPath, auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format := r.URL.Query().Get("format")
		if format == "" {
			format = "json"
		}
		if format != "json" && format != "xlsx" {
			writeError(w, r, apperr.Invalid("format", "format must be json or xlsx"))
			return
		}
		ctx := gid.NewContext(r.Context(), ids)
		d, err := s.Export(ctx, ids, format)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store, private")
		if format == "json" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Disposition", `attachment; filename="my-data.json"`)
			_ = json.NewEncoder(w).Encode(d)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="my-data.xlsx"`)
		if err := writeXLSX(w, d); err != nil {
			reqlog.From(r.Context()).Error("my data xlsx", "error", err.Error())
		}
	})))
}

// writeXLSX writes d as a workbook, a sheet per section, streamed (the
// zip goes straight onto w).
func writeXLSX(w io.Writer, d *MyData) error {
	f := excelize.NewFile()
	defer f.Close()
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	for i, sec := range d.Sections {
		name := fmt.Sprintf("%02d %s", i+1, sec.Name)
		if len(name) > 31 {
			name = name[:31]
		}
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		tbl, ok := sec.Value.(*Table)
		if !ok {
			// A section that is not a table: its JSON in one cell.
			b, err := json.Marshal(sec.Value)
			if err != nil {
				return err
			}
			tbl = &Table{Columns: []string{"json"}, Rows: [][]any{{string(b)}}}
		}
		rows := append([][]any{headerRow(tbl.Columns)}, tbl.Rows...)
		for n, row := range rows {
			cell, err := excelize.CoordinatesToCellName(1, n+1)
			if err != nil {
				return err
			}
			vals := make([]any, len(row))
			for j, v := range row {
				vals[j] = cellValue(v)
			}
			if err := sw.SetRow(cell, vals); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return f.Write(w)
}

func headerRow(cols []string) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = c
	}
	return out
}

// cellValue is a value as a cell: numbers, booleans and strings as they
// are (strings are never formulas in a stream writer), the rest as JSON.
func cellValue(v any) any {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return ""
		}
		v = rv.Elem().Interface()
	}
	switch v := v.(type) {
	case nil:
		return ""
	case int, int64, float64, bool, string:
		return v
	case fmt.Stringer:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apperr.Error
	if !errors.As(err, &e) {
		reqlog.From(r.Context()).Error("my data", "error", err.Error())
		e = &apperr.Error{Code: apperr.Internal, Message: "internal error"}
	}
	apperr.WriteHTTP(w, apperr.HTTPStatus(e.Code), e)
}
