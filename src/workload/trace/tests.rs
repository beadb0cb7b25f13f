use super::*;

#[test]
fn time_formats_read_to_unix_nanoseconds() {
    let utc = Offset::UTC;
    assert_eq!(TimeFormat::parse("unix-s", utc).unwrap().read("807256800"), Ok(807_256_800_000_000_000));
    assert_eq!(TimeFormat::parse("unix-ms", utc).unwrap().read("1.5"), Ok(1_500_000));
    assert_eq!(TimeFormat::parse("unix-ns", utc).unwrap().read("42"), Ok(42));
    let rfc = TimeFormat::Rfc3339.read("1995-08-01T02:00:00-04:00").unwrap();
    assert_eq!(rfc, 807_256_800_000_000_000);
    let dt = TimeFormat::DateTime(utc).read("2023-11-16 18:15:46.6805900").unwrap();
    assert_eq!(dt, TimeFormat::Rfc3339.read("2023-11-16T18:15:46.68059Z").unwrap());
    let plus8 = TimeFormat::DateTime(Offset::constant(8)).read("1995-08-01 14:00:00").unwrap();
    assert_eq!(plus8, rfc);
    assert_eq!(TimeFormat::AccessLog.read("01/Aug/1995:02:00:00 -0400"), Ok(rfc));
    assert!(TimeFormat::Unix(1).read("soon").is_err());
    // Decimals exactly, where a float would be off by tens of nanoseconds.
    let s = TimeFormat::parse("unix-s", utc).unwrap();
    assert_eq!(s.read("1795996807.001"), Ok(1_795_996_807_001_000_000));
    assert_eq!(s.read("1795996807.123456789"), Ok(1_795_996_807_123_456_789));
    assert_eq!(s.read("-1.5"), Ok(-1_500_000_000));
    assert_eq!(TimeFormat::Unix(1).read("2.5"), Ok(3));
    assert_eq!(s.read(".25"), Ok(250_000_000));
    assert_eq!(s.read("1e3"), Ok(1_000_000_000_000));
}

proptest::proptest! {
    /// Plain digits read by the shortcut give what the general reading gives, value or error, whatever
    /// their length (past an `i64`, past the calendar) and whatever surrounds them.
    #[test]
    fn unix_times_read_the_same_with_or_without_the_shortcut(
        text in proptest::prop_oneof![
            "[ +-]?[0-9]{0,21}(\\.[0-9]{0,3})?[ a]?",
            // About i64::MAX (9223372036854775807), where 19 digits stop fitting.
            "9[0-9]{18}|92233720368547758[0-9]{2}",
            // Digits with one byte anywhere that is not one (each side of the digits in ASCII, or not
            // ASCII at all).
            "[0-9]{0,10}[/:\\x00-\\x2f\\x3a-\\x7fé][0-9]{0,10}",
        ],
        scale in proptest::sample::select(vec![1u64, 1_000, 1_000_000, NANOS_PER_SEC]),
    ) {
        let format = TimeFormat::Unix(scale);
        proptest::prop_assert_eq!(format.read(&text), format.read_any(&text));
    }
}

/// Rows are read and their callers looked up [`AHEAD`] at a time, yet each event comes with the
/// counts, caller numbers and names of a row-by-row reader, and a bad row is met at its place: the
/// rows before it are all replayed, and nothing after it is counted. Expected values are worked out
/// from the rows themselves.
#[test]
fn reading_ahead_is_invisible_to_the_reader() {
    // 70 rows: new callers among old ones, a first row before the start (when not shifting),
    // blank rows and one malformed row at data row 41.
    let mut text = String::from("t,c\n");
    // (line, time, caller number and name, rows, rows before the start, callers), or the rows read
    // before the malformed one.
    let mut expected = Vec::new();
    let (mut rows, mut before, mut names) = (0u64, 0u64, Vec::<String>::new());
    for k in 0..70u64 {
        let line = k + 2;
        if k % 17 == 5 {
            text += "\n";
            continue;
        }
        if k == 41 {
            text += "soon,c1\n";
            expected.push(Err(rows));
            continue;
        }
        let name = format!("c{}", (k * 7) % (k / 3 + 1));
        let time = if k == 0 { 99 } else { 100 + k };
        text += &format!("{time},{name}\n");
        rows += 1;
        if time < 100 {
            before += 1;
            continue;
        }
        let number = names.iter().position(|n| *n == name).unwrap_or_else(|| {
            names.push(name.clone());
            names.len() - 1
        });
        expected.push(Ok((line, (time - 100) * NANOS_PER_SEC, number, name, rows, before, names.len())));
    }
    for skip in [false, true] {
        let spec = TraceSpec {
            path: PathBuf::new(),
            format: Format::Delimited(b','),
            time: "t".into(),
            time_format: TimeFormat::parse("unix-s", Offset::UTC).unwrap(),
            caller: Some("c".into()),
            api: ApiMapping::Constant(0),
            latency: None,
            cost: Vec::new(),
            shift: false,
            speed: 1.0,
        };
        let input: Box<dyn BufRead> = Box::new(std::io::Cursor::new(text.clone().into_bytes()));
        let mut source =
            TraceSource::from_reader(&spec, "t.csv".into(), input, 100 * NANOS_PER_SEC as i128, skip).unwrap();
        let mut skipped = 0;
        for want in &expected {
            let (line, at, number, name, rows, before, callers) = match want {
                Ok(row) => row,
                Err(rows) if !skip => {
                    let e = source.next_event().unwrap_err();
                    assert_eq!((e.line, source.rows()), (43, *rows), "{e}");
                    break;
                }
                Err(_) => {
                    skipped += 1;
                    continue;
                }
            };
            let event = source.next_event().unwrap().unwrap();
            assert_eq!((event.line, event.at, event.caller), (*line, *at, Some(*number)));
            assert_eq!(source.caller_name(), name);
            assert_eq!((source.rows(), source.before_start(), source.skipped()), (*rows, *before, skipped));
            assert_eq!(source.caller_count(), *callers);
        }
        if skip {
            assert_eq!(source.next_event(), Ok(None));
            assert_eq!(source.skipped(), 1);
        }
    }
}

#[test]
fn access_log_lines_split_into_fields() {
    let spec = TraceSpec {
        path: PathBuf::new(),
        format: Format::AccessLog,
        time: String::new(),
        time_format: TimeFormat::AccessLog,
        caller: Some("host".into()),
        api: ApiMapping::Field { field: "path".into(), rules: vec![], default: None, names: HashMap::default() },
        latency: None,
        cost: Vec::new(),
        shift: true,
        speed: 1.0,
    };
    let line = r#"in24.inetnebr.com - - [01/Aug/1995:00:00:01 -0400] "GET /shuttle/missions/sts-68/news/sts-68-mcc-05.txt HTTP/1.0" 200 1839 "http://x/" "Mozilla/2.0""#;
    let f = access_log_fields(line, &spec).unwrap();
    assert_eq!(
        (f.time, f.caller, f.api),
        (
            "01/Aug/1995:00:00:01 -0400",
            Some("in24.inetnebr.com"),
            Some("/shuttle/missions/sts-68/news/sts-68-mcc-05.txt")
        )
    );
    assert!(access_log_fields("garbage", &spec).is_err());
}

#[test]
fn api_rules_go_by_prefix_then_default_then_name() {
    let names = api_names([("Pages", 1)].into_iter());
    let m = ApiMapping::Field { field: "url".into(), rules: vec![("/images/".into(), 0)], default: None, names };
    assert_eq!(map_api(&m, Some("/images/logo.gif")), Ok(0));
    assert_eq!(map_api(&m, Some("Pages")), Ok(1));
    assert!(map_api(&m, Some("/other")).is_err());
}

proptest::proptest! {
    /// Remembering the last field mapped changes no row's API, nor any error, whatever the order of
    /// the fields (repeats, prefixes of one another, a field that maps to nothing, none at all).
    #[test]
    fn the_last_api_remembered_maps_as_the_rules_do(
        fields in proptest::collection::vec(
            proptest::option::of(proptest::sample::select(vec!["/images/a", "/images/", "/image", "Pages", "Page", ""])),
            0..30,
        ),
        default in proptest::option::of(2usize..3),
    ) {
        let names = api_names([("Pages", 1)].into_iter());
        let m = ApiMapping::Field { field: "url".into(), rules: vec![("/images/".into(), 0)], default, names };
        let mut last = LastApi::default();
        for field in fields {
            proptest::prop_assert_eq!(last.map(&m, field), map_api(&m, field));
        }
    }
}
