// Package exports serves the sheets staff hand in — an activity's sign-in
// sheet (签到表), volunteer service records (志愿服务记录), the requests
// ledger (诉求台账) and the statistics — as CSV (UTF-8 with a BOM, so Excel
// opens Chinese text) or XLSX, over authenticated HTTP. Rows are read a
// page at a time and streamed, so an export of any length runs in constant
// memory, and every export is written to the audit log.
package exports

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/xuri/excelize/v2"

	"linli/cst"
)

// Format is an export's file format.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// bom makes Excel read a CSV file as UTF-8.
const bom = "\xEF\xBB\xBF"

// sheet is a table being written.
type sheet interface {
	row(cells []any) error
	close() error
}

// start sends the headers of a download named name (without extension)
// and returns the sheet writing to w, its first row header.
func start(w http.ResponseWriter, f Format, name string, header []string) (sheet, error) {
	file := name + "." + string(f)
	switch f {
	case XLSX:
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	default:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="export.%s"; filename*=UTF-8''%s`, f, url.PathEscape(file)))
	w.Header().Set("Cache-Control", "no-store")
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = h
	}
	var s sheet
	if f == XLSX {
		x, err := newXLSX(w)
		if err != nil {
			return nil, err
		}
		s = x
	} else {
		if _, err := io.WriteString(w, bom); err != nil {
			return nil, err
		}
		s = &csvSheet{w: csv.NewWriter(w), flusher: w}
	}
	return s, s.row(cells)
}

type csvSheet struct {
	w       *csv.Writer
	flusher http.ResponseWriter
	n       int
	buf     []string
}

func (c *csvSheet) row(cells []any) error {
	c.buf = c.buf[:0]
	for _, v := range cells {
		s := text(v)
		switch v.(type) {
		case string, *string:
			// Text is what people typed (names, titles, notes, addresses):
			// never a formula. Numbers, times and flags linli wrote are not.
			s = Neutralise(s)
		}
		c.buf = append(c.buf, s)
	}
	if err := c.w.Write(c.buf); err != nil {
		return err
	}
	if c.n++; c.n%1000 == 0 {
		c.w.Flush()
		if f, ok := c.flusher.(http.Flusher); ok {
			f.Flush()
		}
	}
	return c.w.Error()
}

func (c *csvSheet) close() error {
	c.w.Flush()
	return c.w.Error()
}

// xlsxSheet writes through excelize's StreamWriter, which keeps at most a
// chunk of rows in memory and the rest in a temporary file; the workbook
// is zipped onto the response at close.
type xlsxSheet struct {
	f   *excelize.File
	sw  *excelize.StreamWriter
	out io.Writer
	n   int
}

func newXLSX(w io.Writer) (*xlsxSheet, error) {
	f := excelize.NewFile()
	// File.Write zips the workbook into a bytes.Buffer before copying it
	// out; a zip writer of our own sends it straight to the response
	// instead (the buffer stays empty), so the zip is never held whole.
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		f.Close()
		return nil, err
	}
	return &xlsxSheet{f: f, sw: sw, out: w}, nil
}

func (x *xlsxSheet) row(cells []any) error {
	x.n++
	cell, err := excelize.CoordinatesToCellName(1, x.n)
	if err != nil {
		return err
	}
	vals := make([]any, len(cells))
	for i, v := range cells {
		switch v := v.(type) {
		case int, float64, string:
			vals[i] = v
		case rate:
			vals[i] = float64(v)
		default:
			vals[i] = text(v)
		}
	}
	return x.sw.SetRow(cell, vals)
}

func (x *xlsxSheet) close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	return x.f.Write(x.out)
}

// Neutralise is a CSV cell of text made safe against formula injection
// (CWE-1236), the way OWASP's CSV Injection page recommends: a cell that
// begins with =, +, -, @, a tab or a carriage return gets a single quote
// before it, so a spreadsheet shows the text instead of running it
// (=HYPERLINK(…) in a display name stays text). encoding/csv then quotes
// cells holding commas, quotes and line breaks. This is the one place CSV
// cells are neutralised: every CSV export writes its rows through
// csvSheet.row, which calls it for every text cell.
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// rate is a ratio a sheet shows with 4 decimals (三率, a share).
type rate float64

// text is a cell as CSV shows it: times in China Standard Time, nil empty.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case *string:
		if v == nil {
			return ""
		}
		return *v
	case time.Time:
		return clock(v)
	case *time.Time:
		if v == nil {
			return ""
		}
		return clock(*v)
	case *int:
		if v == nil {
			return ""
		}
		return fmt.Sprint(*v)
	case float64:
		return fmt.Sprintf("%.2f", v)
	case rate:
		return fmt.Sprintf("%.4f", float64(v))
	case bool:
		if v {
			return "是"
		}
		return "否"
	}
	return fmt.Sprint(v)
}

// cst is China Standard Time, the clock of every sheet.

func clock(t time.Time) string { return t.In(cst.Zone).Format("2006-01-02 15:04") }
