//! A community for the roster import and the statistics: its place tree (grids of
//! buildings of units) and a roster in the household ledger's columns, as a CSV.

use linli_domain::{Place, PlaceKind};

pub const COMMUNITY: &str = "c-roster";

/// One community of `grids` grids, each of 10 buildings with 2 units: (places, grid ids).
pub fn community(grids: usize) -> (Vec<Place>, Vec<String>) {
    let place = |id: String, kind, parent: Option<&str>, name: String| Place {
        id,
        kind,
        parent_id: parent.map(Into::into),
        name,
    };
    let mut places = vec![place(
        COMMUNITY.into(),
        PlaceKind::Community,
        None,
        "花名册社区".into(),
    )];
    let mut ids = Vec::new();
    for g in 0..grids {
        let grid = format!("rg-{g}");
        places.push(place(
            grid.clone(),
            PlaceKind::Grid,
            Some(COMMUNITY),
            format!("第{}网格", g + 1),
        ));
        for b in 0..10 {
            let building = format!("{grid}-b-{b}");
            places.push(place(
                building.clone(),
                PlaceKind::Building,
                Some(&grid),
                format!("{}区{}栋", g + 1, b + 1),
            ));
            for u in 0..2 {
                places.push(place(
                    format!("{building}-u-{u}"),
                    PlaceKind::Unit,
                    Some(&building),
                    format!("{}单元", u + 1),
                ));
            }
        }
        ids.push(grid);
    }
    (places, ids)
}

/// A valid 18-character ID number for a running number (its check character computed).
pub fn id_number(n: usize, birth_year: i32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    // A region code per thousand, the birth date, a running number: unique below 10^8.
    let body = format!(
        "{:06}{birth_year:04}0101{:03}",
        500_000 + (n / 1000) % 100_000,
        n % 1000
    );
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{body}{}", char::from(CHECK[(sum % 11) as usize]))
}

const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: [&str; 10] = [
    "秀英", "建国", "桂兰", "志强", "丽", "伟", "芳", "军", "敏", "静",
];

/// A roster of `rows` member rows: households of 1 to 4 members spread over the grids'
/// buildings and units, every second member with an ID number, every third with a phone.
/// Returns the CSV (UTF-8 with a BOM) and how many households it holds.
pub fn csv(grids: usize, rows: usize) -> (String, usize) {
    let mut out = String::from(
        "\u{feff}楼栋,单元,房号,居住类型,住房,标签,备注,姓名,关系,出生年,性别,户籍状态,电话,身份证号\n",
    );
    let (mut row, mut household) = (0, 0);
    while row < rows {
        let g = household % grids;
        let b = (household / grids) % 10;
        let u = (household / grids / 10) % 2;
        let room = 101 + household / grids / 20;
        let size = 1 + household % 4;
        for m in 0..size.min(rows - row) {
            let relation = ["户主", "配偶", "子女", "父母"][m];
            let year = 1940 + ((household * 7 + m * 13) % 70) as i32;
            let name = format!(
                "{}{}{}",
                SURNAMES[household % 10],
                GIVEN[(household / 10 + m) % 10],
                household
            );
            let id = if row % 2 == 0 {
                id_number(row, year)
            } else {
                String::new()
            };
            let phone = if row % 3 == 0 {
                format!("139{:08}", row)
            } else {
                String::new()
            };
            let (residency, housing, tags) = if m == 0 {
                (
                    "常住",
                    "自有",
                    if household % 10 == 0 {
                        "空巢/独居老人"
                    } else {
                        ""
                    },
                )
            } else {
                ("", "", "")
            };
            out.push_str(&format!(
                "{}区{}栋,{}单元,{room},{residency},{housing},{tags},,{name},{relation},{year},{},户籍,{phone},{id}\n",
                g + 1,
                b + 1,
                u + 1,
                if m % 2 == 0 { "女" } else { "男" },
            ));
            row += 1;
        }
        household += 1;
    }
    (out, household)
}
