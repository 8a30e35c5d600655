// Command mkcommon builds the list of common passwords and words that package
// password embeds (password/common.txt.gz). It is not run at build time: the
// list is generated once, checked in, and regenerated only to update it.
//
// # Sources
//
// Two language packages of zxcvbn-ts (https://github.com/zxcvbn-ts/zxcvbn),
// both published on npm under the MIT licence (see password/NOTICE, which holds both licence texts):
//
//   - @zxcvbn-ts/language-common 4.1.3, src/passwords.json: 49,233 common
//     passwords from leaked password sets, most common first (the list of the
//     original Dropbox zxcvbn).
//   - @zxcvbn-ts/language-nl-be 3.0.2, src/commonWords.json (16,074 Dutch
//     words from subtitle frequency lists) and src/wikipedia.json (19,542
//     words from Dutch Wikipedia), most frequent first. The package's first
//     and last names are not used.
//
// The tarballs are pinned by their npm SHA-1 shasum, which this command
// checks.
//
// # Use
//
//	cd "$(mktemp -d)"
//	npm pack @zxcvbn-ts/language-common@4.1.3 @zxcvbn-ts/language-nl-be@3.0.2
//	cd -   # back to the repository root
//	go run ./password/internal/mkcommon -o password/common.txt.gz /tmp/that-dir
//
// # Output
//
// A gzip file of lines "word<TAB>rank", sorted by word (byte order), one line
// per distinct word. Each word is folded as package password folds passwords
// (NFKC, case-folded, diacritics removed); its rank is its smallest 1-based
// position in any of the source lists, a proxy for how early an attacker
// tries it.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/zorgkit/zorgkit/password/internal/textfold"
)

// source is one JSON word list inside an npm tarball.
type source struct {
	tarball string // file name as `npm pack` writes it
	shasum  string // npm's dist.shasum (SHA-1 of the tarball)
	files   []string
}

var sources = []source{
	{
		tarball: "zxcvbn-ts-language-common-4.1.3.tgz",
		shasum:  "c0955cc6819f89e49f4274c7013890c1ae7fdd06",
		files:   []string{"package/src/passwords.json"},
	},
	{
		tarball: "zxcvbn-ts-language-nl-be-3.0.2.tgz",
		shasum:  "99fb8f6383e3353eaa8eba7b18d6f40417a2c935",
		files:   []string{"package/src/commonWords.json", "package/src/wikipedia.json"},
	},
}

func main() {
	out := flag.String("o", "common.txt.gz", "output file")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkcommon [-o file] DIR-WITH-NPM-TARBALLS")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkcommon:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	ranks := map[string]int{}
	for _, src := range sources {
		lists, err := readTarball(filepath.Join(dir, src.tarball), src.shasum, src.files)
		if err != nil {
			return err
		}
		for name, words := range lists {
			n := 0
			for i, w := range words {
				w = textfold.Fold(strings.TrimSpace(w))
				if w == "" || strings.ContainsAny(w, "\t\n\r") {
					continue
				}
				if r, ok := ranks[w]; !ok || i+1 < r {
					ranks[w] = i + 1
				}
				n++
			}
			fmt.Fprintf(os.Stderr, "%s %s: %d words\n", src.tarball, name, n)
		}
	}
	words := make([]string, 0, len(ranks))
	for w := range ranks {
		words = append(words, w)
	}
	slices.Sort(words)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	for _, w := range words {
		bw.WriteString(w)
		bw.WriteByte('\t')
		bw.WriteString(strconv.Itoa(ranks[w]))
		bw.WriteByte('\n')
	}
	if err := errors.Join(bw.Flush(), zw.Close()); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d distinct words, %d bytes compressed\n", len(words), buf.Len())
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// readTarball checks the SHA-1 of an npm tarball and returns the JSON string
// arrays of the named files in it.
func readTarball(path, shasum string, files []string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(data)
	if got := hex.EncodeToString(sum[:]); got != shasum {
		return nil, fmt.Errorf("%s: SHA-1 %s, want %s", path, got, shasum)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lists := map[string][]string{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !slices.Contains(files, h.Name) {
			continue
		}
		var words []string
		if err := json.NewDecoder(tr).Decode(&words); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, h.Name, err)
		}
		lists[h.Name] = words
	}
	for _, f := range files {
		if _, ok := lists[f]; !ok {
			return nil, fmt.Errorf("%s: no %s", path, f)
		}
	}
	return lists, nil
}
