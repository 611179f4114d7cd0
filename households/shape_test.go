package households_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"linli/linlitest"
)

// wideXLSX writes a workbook by hand (excelize would build every cell up to
// the last column): a header 地址, 户主 and rows of two cells, each with a
// one-character value in column col.
func wideXLSX(t *testing.T, rows int, col string) []byte {
	t.Helper()
	var sheet strings.Builder
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	sheet.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>地址</t></is></c><c r="B1" t="inlineStr"><is><t>户主</t></is></c></row>`)
	for i := 2; i <= rows+1; i++ {
		fmt.Fprintf(&sheet, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>幸福路%d号</t></is></c><c r="B%d" t="inlineStr"><is><t>王五</t></is></c><c r="%s%d"><v>1</v></c></row>`,
			i, i, i, i, col, i)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet.String()},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// importAlloc is the bytes the process allocates while one import runs.
func importAlloc(t *testing.T, e *linlitest.Env, token, name string, file []byte) (*linlitest.Result, uint64) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := upload(t, e, token, importSheet, map[string]any{"kind": "HOUSEHOLDS", "dry": true}, name, file)
	runtime.ReadMemStats(&after)
	return r, after.TotalAlloc - before.TotalAlloc
}

// importAllocBound is what reading a hostile sheet may allocate, in all.
const importAllocBound = 64 << 20

// A sheet of a few kilobytes whose rows each hold a value in column XFD
// (16,384 cells to a row reader) is refused by its shape, naming the bound,
// within a few megabytes of allocation; a value beyond the header but
// within the bound is dropped with its column, and the import reads the
// rows as usual; a CSV of separators is refused by its count.
func TestImportSheetShapeBounded(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		file := wideXLSX(t, 1000, "XFD")
		r, alloc := importAlloc(t, e, w.coord, "住户.xlsx", file)
		t.Logf("XFD sheet: %d bytes, import allocated %.1f MB", len(file), float64(alloc)/(1<<20))
		r.WantCode(t, "VALIDATION_FAILED")
		if r.Field() != "file" || !strings.Contains(r.Errors[0].Message, "64 columns") {
			t.Fatalf("refusal: field %q, %q", r.Field(), r.Errors[0].Message)
		}
		if alloc > importAllocBound {
			t.Fatalf("reading a %d-byte sheet allocated %d MB (bound %d MB)", len(file), alloc>>20, importAllocBound>>20)
		}

		// A stray value in column J, right of the two-column header: trimmed.
		out := runImport(t, e, w.coord, "HOUSEHOLDS", true, "住户.xlsx", wideXLSX(t, 20, "J")).ImportSpreadsheet
		if out.Rows != 20 || len(out.Errors) != 0 || out.Created != 20 {
			t.Fatalf("sheet with a stray column: %+v", out)
		}

		csv := "地址,户主\n幸福路1号,王五" + strings.Repeat(",", 250_000) + "\n"
		r, alloc = importAlloc(t, e, w.coord, "住户.csv", []byte(csv))
		t.Logf("CSV of separators: import allocated %.1f MB", float64(alloc)/(1<<20))
		r.WantCode(t, "VALIDATION_FAILED")
		if !strings.Contains(r.Errors[0].Message, "200000 cells") {
			t.Fatalf("CSV refusal: %q", r.Errors[0].Message)
		}
		csv = "地址,户主\n幸福路1号,王五" + strings.Repeat(",", 80) + "x\n"
		upload(t, e, w.coord, importSheet, map[string]any{"kind": "HOUSEHOLDS", "dry": true}, "住户.csv", []byte(csv)).WantCode(t, "VALIDATION_FAILED")
	})
}
