// Package pseudonym replaces citizen service numbers (BSNs) by keyed
// pseudonyms, encrypts indirectly identifying fields, and does both to
// uploaded files of any size as they stream in.
//
// A care provider uploads the data set it also sends to Statistics
// Netherlands (CBS). On upload every BSN becomes a pseudoBSN, so the stored
// data cannot be traced to a client while the same client still links
// across uploads and providers; fields that identify a client indirectly
// (postcode, date of birth) are encrypted or coarsened.
//
// # Keys
//
// A [Key] is an id and a secret of at least 32 bytes from configuration
// ([ReadKeyring] reads a key file). A [Keyring] holds the current key and
// older ones: every pseudonym and encrypted value names the id of its key,
// so data made before a rotation is still recognised, decrypted, and found:
// [Keyring.Pseudonyms] gives a BSN's pseudonym under every key.
//
// No value of this package shows key material, whatever prints it: every fmt
// verb (%p too), slog and encoding/json see key ids only, and the keys
// themselves are held where reflection cannot reach them, so that %+v of a
// struct that holds a [Key] by value, or a reflection-based dump of a
// server's state, does not show them either.
//
// Every recipient of pseudonymised data (a municipality, a researcher) gets
// its own domain, and pseudonyms of two domains cannot be joined without the
// key. The empty domain "" is the key holder's own.
//
// # Pseudonyms
//
// A [Pseudonymiser] makes the pseudonyms of one domain; its text form is
// v1.<key id>.<base32>, such as
//
//	v1.k1.wewg67536zppb26ax44vdgxrue2fpzd3mfn5vejywaff6pgwoaea
//
// The CBS placeholders 999999999 ("BSN unknown") and 000000000 ("unborn
// child") pass through unchanged as [Pseudonym] values of kind [UnknownBSN]
// and [UnbornChild]: they identify no one, and hashing them would merge all
// unknown clients into one pseudo-person.
//
// # Field encryption and coarsening
//
// A [FieldCipher] encrypts a field with AES-256-GCM under a key derived for
// its domain, bound to its column name, as e1.<key id>.<base64url>; those who
// hold the key decrypt it. [PC4] coarsens a postcode, [AgeBand] a date of
// birth.
//
// # Files
//
// A [Processor] streams a delimited or fixed-width file from an [io.Reader]
// (such as an HTTP request body) to an [io.Writer] or a row callback, applies
// a column policy to every row ([Pseudonymise], [Encrypt], [CoarsenPC4],
// [CoarsenYear], [CoarsenAgeBand], [Keep], [Drop], by header name or
// position), and returns a [Report]. Memory stays flat whatever the size of
// the file, the rows are processed on all cores, and the output keeps their
// order. No temporary file is written.
//
// Delimited files follow RFC 4180 with ';', ',' or tab, detected from the
// first line: a field may be quoted, with "" for a quote, and may then hold
// delimiters and line breaks. A quote inside an unquoted field is text, as
// spreadsheets write it; a quote after a closing quote makes the row
// unreadable. Lines end in LF, CRLF, or a CR alone (Excel for Mac's "CSV
// (Macintosh)"). Blank lines hold no data and are skipped. The encoding is
// UTF-8 (with or without byte-order mark), Windows-1252 or UTF-16 with a
// byte-order mark, detected or configured; the output is UTF-8.
//
// An Excel workbook (.xlsx) is read too, recognised by its content: the
// rows of its first worksheet, a row's line its row number, dates in date
// formats as YYYY-MM-DD, whole numbers without decimals. Spreadsheets drop
// leading zeros: see [Column.NumericFromSpreadsheet]. A legacy .xls, an
// OpenDocument spreadsheet or another binary file is refused with a
// [FileTypeError] whose text tells the provider how to save it instead.
//
// A file without data rows is an error ([ErrNoRows]), and so is a header
// cell that holds a number as long as a BSN: never "0 rows read" and
// success, never a BSN in the output's header.
//
// Nothing is lost silently: every data row is written, or rejected and listed
// in the Report with its line, its column and a stable [Code] with a Dutch
// and an English text. A row whose BSN is not valid (nor a CBS placeholder)
// is rejected, or kept with the code in place of the BSN ([KeepFlagged]).
// A BSN read from a column to pseudonymise never reaches the output, the
// Report or an error: not even an invalid one, which may still be a client's
// number with a typing error. (A column the policy keeps is copied as it is:
// encrypt or drop a column that may hold a BSN, such as a free-text remark.)
//
// # Construction
//
// Another implementation reproduces the outputs of this package from these
// rules; package pseudonymtest publishes known-answer vectors. All strings
// are UTF-8; "‖" is concatenation; HKDF is RFC 5869 with SHA-256.
//
//	PRK       = HKDF-Extract(salt = "zorgkit/pseudonym/v1", IKM = secret)
//	Kpseudo   = HKDF-Expand(PRK, info = "pseudonym" ‖ 0x00 ‖ domain, L = 32)
//	Kfield    = HKDF-Expand(PRK, info = "field" ‖ 0x00 ‖ domain, L = 32)
//
//	pseudonym = HMAC-SHA256(Kpseudo, the nine ASCII digits of the BSN)
//	text      = "v1." ‖ key id ‖ "." ‖ base32(pseudonym)
//
//	nonce     = 12 random bytes
//	aad       = "e1." ‖ key id ‖ "." ‖ field name
//	sealed    = AES-256-GCM-Seal(Kfield, nonce, plaintext, aad)   (ciphertext ‖ 16-byte tag)
//	text      = "e1." ‖ key id ‖ "." ‖ base64url(nonce ‖ sealed)
//
// The BSN is first brought into canonical form by [bsn.Parse]: nine digits,
// so that an eight-digit number from before 2007 gets its leading zero.
// base32 is the RFC 4648 alphabet in lower case ("abcdefghijklmnopqrstuvwxyz234567")
// without padding: 52 characters, the last of which is 'a' or 'q'. base64url
// is RFC 4648 §5 without padding. A key id has 1 to 32 ASCII letters, digits,
// '-' or '_', so it never contains the '.' that ends it.
//
// A domain may be any valid UTF-8 of up to 255 bytes: the fixed label before
// the 0x00 keeps the two derivations apart for every domain. The secret
// itself is used only as HKDF input; a [Key] keeps only the PRK.
//
// The HMAC of nine digits is two SHA-256 blocks after the key's stored
// states (FIPS 198-1 §6 allows storing them). On amd64 processors with the
// SHA extensions each block goes to their instructions directly (assembly
// adapted from Go's crypto/sha256; build with -tags purego to leave it out);
// elsewhere, and in FIPS 140-3 mode, the standard library computes it. Each
// [Pseudonymiser] compares its function with crypto/hmac when it is made,
// and uses crypto/hmac if they disagree.
//
// One Kfield encrypts at most 2³² values before random nonces risk
// colliding (NIST SP 800-38D): rotate the key, or use more domains, long
// before that.
package pseudonym
