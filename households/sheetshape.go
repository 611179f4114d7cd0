package households

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"

	"linli/apperr"
)

// MaxImportColumns bounds the columns an imported sheet may fill: a value
// further right (an XLSX cell in column XFD, the 16,384th) is refused before
// anything reads the row, since excelize hands a row over as a slice up to
// its last filled cell. A community sheet has a handful of columns.
const MaxImportColumns = 64

// MaxImportCells bounds the filled cells of one file (an XLSX sheet's cells
// with a value, a CSV file's separators): 5,000 rows of 40 columns.
const MaxImportCells = 200_000

func tooManyColumns(col, row int) error {
	name, _ := excelize.ColumnNumberToName(col)
	return apperr.Invalid("file", "at most %d columns per sheet: row %d has a value in column %s; delete what lies to the right of the table", MaxImportColumns, row, name)
}

func tooManyCells() error {
	return apperr.Invalid("file", "at most %d cells per file: split the sheet", MaxImportCells)
}

// checkXLSXShape reads the first sheet's XML as a stream of tokens, without
// building its rows, and refuses a workbook with a value beyond
// MaxImportColumns or more than MaxImportCells values: what excelize's row
// iterator later materialises is then bounded by the upload's shape, not by
// the columns its cells claim. A workbook whose first sheet it cannot find is
// refused.
func checkXLSXShape(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return apperr.Invalid("file", "the file is not a valid XLSX workbook")
	}
	sheet, ok := firstSheetPath(zr)
	if !ok {
		return apperr.Invalid("file", "the file is not a valid XLSX workbook")
	}
	f, err := zr.Open(sheet)
	if err != nil {
		return apperr.Invalid("file", "the workbook has no sheet")
	}
	defer f.Close()
	dec := xml.NewDecoder(io.LimitReader(f, maxUnzipped/4))
	row, col, cells, inCell, counted := 0, 0, 0, false, false
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return apperr.Invalid("file", "the first sheet cannot be read")
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "row":
				row, col = row+1, 0
				if r := attr(el, "r"); r != "" {
					row = rowNumber(r, row)
				}
			case "c":
				col++
				if r := attr(el, "r"); r != "" {
					c, rr, err := excelize.CellNameToCoordinates(r)
					if err != nil {
						return apperr.Invalid("file", "the first sheet cannot be read")
					}
					col, row = c, rr
				}
				inCell, counted = true, false
			case "v", "is", "f":
				if !inCell || counted {
					continue
				}
				counted = true
				if col > MaxImportColumns {
					return tooManyColumns(col, row)
				}
				if cells++; cells > MaxImportCells {
					return tooManyCells()
				}
			}
		case xml.EndElement:
			if el.Name.Local == "c" {
				inCell = false
			}
		}
	}
}

func rowNumber(r string, fallback int) int {
	n := 0
	for _, d := range r {
		if d < '0' || d > '9' || n > 1<<21 {
			return fallback
		}
		n = n*10 + int(d-'0')
	}
	return n
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// firstSheetPath finds the part of the workbook's first sheet, as excelize
// orders them: the package's officeDocument relationship names the workbook,
// the workbook's first <sheet> names its relationship, that names the part.
func firstSheetPath(zr *zip.Reader) (string, bool) {
	type relationships struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	var root relationships
	if !readXMLPart(zr, "_rels/.rels", &root) {
		return "", false
	}
	workbook := ""
	for _, r := range root.Rels {
		if strings.HasSuffix(r.Type, "/officeDocument") {
			workbook = partPath("", r.Target)
			break
		}
	}
	var wb struct {
		Sheets []struct {
			ID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels relationships
	dir, base := path.Split(workbook)
	if workbook == "" || !readXMLPart(zr, workbook, &wb) || len(wb.Sheets) == 0 ||
		!readXMLPart(zr, path.Join(dir, "_rels", base+".rels"), &rels) {
		return "", false
	}
	for _, r := range rels.Rels {
		if r.ID == wb.Sheets[0].ID {
			return partPath(dir, r.Target), true
		}
	}
	return "", false
}

// partPath resolves a relationship's target: absolute from the package's
// root, or relative to the directory of the part that names it.
func partPath(dir, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Join("/", dir, target), "/")
}

// readXMLPart decodes a small part of the archive (bounded to 4 MB).
func readXMLPart(zr *zip.Reader, name string, v any) bool {
	f, err := zr.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	return xml.NewDecoder(io.LimitReader(f, 4<<20)).Decode(v) == nil
}
