package households

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"linli/apperr"
	"linli/cst"
)

// MaxImportRows bounds the data rows of one imported spreadsheet (a
// community has a few thousand households; the upload's size is bounded by
// -max-upload-bytes).
const MaxImportRows = 5000

// table is a spreadsheet read into text: the header row and the data rows,
// each with its row number as the spreadsheet shows it.
type table struct {
	headerRow int
	header    []string
	rows      []sheetRow
	// serialDates: numbers in date columns are Excel date serials (XLSX).
	serialDates bool
}

type sheetRow struct {
	number int
	cells  []string
}

func (r sheetRow) cell(i int) string {
	if i < 0 || i >= len(r.cells) {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

// maxUnzipped bounds the uncompressed size of an imported workbook: 5000
// rows of a community sheet are a few megabytes.
const maxUnzipped = 128 << 20

var zipMagic = []byte("PK\x03\x04")

// readTable reads an uploaded CSV or XLSX file (told apart by content: an
// XLSX file is a zip archive). CSV may be UTF-8 (with or without a byte
// order mark) or GB18030, as Excel saves it on Chinese Windows. XLSX is read
// from its first sheet.
func readTable(filename string, data []byte) (*table, error) {
	name := strings.ToLower(filename)
	switch {
	case bytes.HasPrefix(data, zipMagic):
		return readXLSX(data)
	case strings.HasSuffix(name, ".xlsx"):
		return nil, apperr.Invalid("file", "the file is not a valid XLSX workbook")
	case strings.HasSuffix(name, ".xls"), bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, apperr.Invalid("file", "old .xls workbooks are not read: save the sheet as .xlsx or .csv")
	}
	return readCSV(data)
}

func readXLSX(data []byte) (*table, error) {
	if err := checkXLSXShape(data); err != nil {
		return nil, err
	}
	// Bounded unzipping: a few megabytes of XLSX must not inflate into
	// gigabytes (excelize's default bound is 16 GB).
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzipped / 4,
	})
	if err != nil {
		return nil, apperr.Invalid("file", "the file is not a valid XLSX workbook")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, apperr.Invalid("file", "the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, apperr.Invalid("file", "the first sheet cannot be read")
	}
	defer rows.Close()
	var all []sheetRow
	var width headerWidth
	for n := 1; rows.Next(); n++ {
		if len(all) > MaxImportRows+50 {
			return nil, tooManyRows()
		}
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, apperr.Invalid("file", "the first sheet cannot be read")
		}
		all = append(all, sheetRow{number: n, cells: width.trim(cells)})
	}
	t, err := tableOf(all)
	if t != nil {
		t.serialDates = true
	}
	return t, err
}

func readCSV(data []byte) (*table, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(data) {
		decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return nil, apperr.Invalid("file", "the CSV file is neither UTF-8 nor GB18030 text")
		}
		data = decoded
	}
	// Every field but a record's first follows a separator: counting them
	// bounds the fields a record can hold before the reader builds it.
	if bytes.Count(data, []byte(",")) > MaxImportCells {
		return nil, tooManyCells()
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var all []sheetRow
	var width headerWidth
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				line = pe.Line
			}
			return nil, apperr.Invalid("file", "the CSV file cannot be read at line %d", line)
		}
		if len(all) > MaxImportRows+50 {
			return nil, tooManyRows()
		}
		// The line the record starts on: the reader skips empty lines.
		line, _ := r.FieldPos(0)
		for i := MaxImportColumns; i < len(rec); i++ {
			if strings.TrimSpace(rec[i]) != "" {
				return nil, tooManyColumns(i+1, line)
			}
		}
		all = append(all, sheetRow{number: line, cells: width.trim(rec)})
	}
	return tableOf(all)
}

// headerWidth trims each row to the header's width as the rows are read:
// the header is the first row that is not blank, and no column an import
// reads lies right of it.
type headerWidth struct{ n int }

func (w *headerWidth) trim(cells []string) []string {
	if w.n == 0 {
		if blank(cells) {
			return nil
		}
		cells = cells[:min(len(cells), MaxImportColumns)]
		w.n = len(cells)
		return slices.Clip(cells)
	}
	if len(cells) > w.n {
		// A copy: the reader's longer slice is not kept alive by the row.
		return slices.Clone(cells[:w.n])
	}
	return cells
}

func tooManyRows() error {
	return apperr.Invalid("file", "at most %d rows per file: split the sheet", MaxImportRows)
}

// tableOf finds the header (the first row that is not blank) and the data
// rows after it, skipping blank ones.
func tableOf(all []sheetRow) (*table, error) {
	t := &table{}
	for _, r := range all {
		if blank(r.cells) {
			continue
		}
		if t.header == nil {
			t.headerRow, t.header = r.number, r.cells
			continue
		}
		t.rows = append(t.rows, r)
	}
	if t.header == nil {
		return nil, apperr.Invalid("file", "the sheet is empty")
	}
	if len(t.rows) > MaxImportRows {
		return nil, tooManyRows()
	}
	return t, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// column is one column an import reads: its key and the headers accepted
// for it (matched ignoring case, spaces and a trailing * or （必填）).
type column struct {
	key      string
	required bool
	headers  []string
}

// columns maps each known column to its index in the header (-1: absent)
// and its header as written; missing lists the required columns absent.
func (t *table) columns(known []column) (index map[string]int, written map[string]string, missing []string) {
	index, written = map[string]int{}, map[string]string{}
	for _, c := range known {
		index[c.key] = -1
		written[c.key] = c.headers[0]
	}
	for i, h := range t.header {
		n := normalizeHeader(h)
		for _, c := range known {
			if index[c.key] >= 0 {
				continue
			}
			for _, alias := range c.headers {
				if n == normalizeHeader(alias) {
					index[c.key], written[c.key] = i, strings.TrimSpace(h)
				}
			}
		}
	}
	for _, c := range known {
		if c.required && index[c.key] < 0 {
			missing = append(missing, c.headers[0])
		}
	}
	return index, written, missing
}

func normalizeHeader(h string) string {
	h = strings.ToLower(strings.Join(strings.Fields(h), ""))
	h = strings.TrimPrefix(h, "\uFEFF")
	for _, suffix := range []string{"（必填）", "(必填)", "*", "＊"} {
		h = strings.TrimSuffix(h, suffix)
	}
	return strings.TrimPrefix(h, "*")
}

// splitList splits a cell holding several values (skills, care tags):
// separated by 、 , ， ; ； / or white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case '、', ',', '，', ';', '；', '/', '|', ' ', '\t', '\n', '\u3000':
			return true
		}
		return false
	})
}

// parseCount reads a whole number such as 3, 3人 or 3.0 (a spreadsheet's number).
func parseCount(s string) (int, bool) {
	s = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), "人口"))
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int(f)) {
		return int(f), true
	}
	return 0, false
}

var dateLayouts = []string{"2006-01-02", "2006/01/02", "2006.01.02", "2006-1-2", "2006/1/2", "2006.1.2",
	"2006年1月2日", "2006年01月02日", "2006-01-02 15:04:05", "2006/1/2 15:04:05", "2006/1/2 15:04"}

// parseDate reads a date as community sheets write it (2023-05-01,
// 2023/5/1, 2023年5月1日) or, in an XLSX date cell, as an Excel serial
// number; the day is taken in China Standard Time.
func parseDate(s string, serial bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.ParseInLocation(layout, s, cst.Zone); err == nil {
			return t.UTC(), true
		}
	}
	if serial {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 1 && f < 2958466 {
			t, err := excelize.ExcelDateToTime(f, false)
			if err == nil {
				y, m, d := t.Date()
				return time.Date(y, m, d, 0, 0, 0, 0, cst.Zone).UTC(), true
			}
		}
	}
	return time.Time{}, false
}
