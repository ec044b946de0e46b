//! The demo's simulated devices: a grid worker, a building leader, a second grid worker and
//! a community admin, each with a real device store, work offline, come back and sync
//! through the running server; then what merged is printed.
//!
//! Run by `linli-demo` against its server once it is listening. The server's clock is the real
//! one plus an offset the story moves forward (by [`DemoClock`]), so an unanswered incident
//! misses its 15-minute response target and the escalation sweep raises it, without waiting.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use linli_core::protocol::Role;
use linli_core::{
    CareTag, HouseholdPatch, Housing, Identity, IncidentAction, IncidentCategory, MemberPatch,
    Need, NeedCategory, NewHousehold, NewIncident, NewMember, NewVisit, Priority, Relation,
    Residency, Store, SyncConfig, VisitPurpose,
};

use linli_sync_server::Storage;
use linli_testkit::DemoDevice;
use linli_testkit::demo::{BUILDING_2, GRID_1, GRID_2, UNIT_1_1, UNIT_9_1};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The demo server's storage and how far its clock runs ahead of the real one.
pub struct DemoClock {
    pub storage: Arc<dyn Storage>,
    pub ahead_ms: Arc<AtomicI64>,
}

impl DemoClock {
    /// Moves the server's clock forward by `ms` and runs one escalation sweep.
    async fn advance_and_sweep(&self, ms: i64) -> Result<usize> {
        self.ahead_ms.fetch_add(ms, Ordering::SeqCst);
        let storage = self.storage.clone();
        let done = tokio::task::spawn_blocking(move || storage.sweep()).await??;
        Ok(done.len())
    }
}

struct Phone {
    name: String,
    store: Store,
    config: SyncConfig,
}

impl Phone {
    fn open(dir: &Path, device: &DemoDevice, base_url: &str) -> Result<Phone> {
        let path = dir.join(format!("{}.db", device.user_id));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = Store::open(
            &path,
            Identity {
                device_id: device.device_id.clone(),
                user_id: device.user_id.clone(),
            },
            &linli_testkit::DB_KEY,
        )?;
        Ok(Phone {
            name: format!("{}（{}）", device.name, device.role.label()),
            store,
            config: SyncConfig::new(base_url, device.token.clone()),
        })
    }

    async fn sync(&self, out: &mut impl Write) -> Result<()> {
        let report = self.store.sync(&self.config, &|_| {}).await?;
        let p = &report.progress;
        writeln!(
            out,
            "  {} 同步：{} 轮，上传 {} 份记录 / {} 字节，下载 {} 份 / {} 字节",
            self.name, p.rounds, p.docs_up, p.bytes_up, p.docs_down, p.bytes_down
        )?;
        Ok(())
    }
}

fn member(name: &str, relation: Relation, phone: Option<&str>, born: i32) -> NewMember {
    NewMember {
        name: name.into(),
        relation,
        birth_year: Some(born),
        phone: phone.map(Into::into),
        id_number: None,
    }
}

fn find(devices: &[DemoDevice], role: Role, nth: usize) -> Result<&DemoDevice> {
    devices
        .iter()
        .filter(|d| d.role == role)
        .nth(nth)
        .ok_or_else(|| "demo device missing".into())
}

/// Runs the story against the server at `base_url`, writing device stores under `dir`.
pub async fn run(
    base_url: &str,
    devices: &[DemoDevice],
    dir: &Path,
    clock: &DemoClock,
    out: &mut impl Write,
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let li = Phone::open(dir, find(devices, Role::GridWorker, 0)?, base_url)?;
    let wang = Phone::open(dir, find(devices, Role::GridWorker, 1)?, base_url)?;
    let zhao = Phone::open(dir, find(devices, Role::BuildingLeader, 0)?, base_url)?;
    let admin = Phone::open(dir, find(devices, Role::Admin, 0)?, base_url)?;

    writeln!(
        out,
        "\n== 演示：网格员和楼栋长离线工作，回到有信号处同步 =="
    )?;
    writeln!(out, "1. 首次同步（领取地点和人员名单）")?;
    for p in [&li, &wang, &zhao, &admin] {
        p.sync(out).await?;
    }

    writeln!(out, "2. {} 在第一网格登记住户并上传", li.name)?;
    let zhang = li.store.create_household(NewHousehold {
        place_id: UNIT_1_1.into(),
        room: "101".into(),
        residency: Residency::Resident,
        housing: Housing::Resettlement,
        tags: vec![],
        notes: String::new(),
        members: vec![member("张秀英", Relation::Head, Some("13812345678"), 1946)],
    })?;
    li.store.create_household(NewHousehold {
        place_id: UNIT_1_1.into(),
        room: "102".into(),
        residency: Residency::Floating,
        housing: Housing::Rented,
        tags: vec![CareTag::LeftBehindChild],
        notes: "父母在外务工".into(),
        members: vec![
            member("刘小军", Relation::Child, None, 2015),
            member("刘大爷", Relation::Grandparent, Some("13900001111"), 1950),
        ],
    })?;
    li.store.create_household(NewHousehold {
        place_id: BUILDING_2.into(),
        room: "301".into(),
        residency: Residency::Resident,
        housing: Housing::Owned,
        tags: vec![CareTag::Veteran],
        notes: String::new(),
        members: vec![member("陈建国", Relation::Head, Some("13700002222"), 1958)],
    })?;
    li.sync(out).await?;
    zhao.sync(out).await?;

    writeln!(
        out,
        "3. 离线：两人同时修改 1单元101 张秀英家，楼栋长上报事件"
    )?;
    let head = li
        .store
        .household(&zhang)?
        .members
        .first()
        .map(|m| m.id.clone())
        .ok_or("no member")?;
    li.store.record_visit(NewVisit {
        household_id: zhang.clone(),
        at: None,
        purpose: VisitPurpose::AskNeeds,
        needs: vec![Need {
            category: NeedCategory::Repair,
            text: "卫生间顶棚渗水".into(),
        }],
        done_on_spot: "已拍照，联系物业".into(),
        follow_up: true,
    })?;
    li.store.update_member(
        &zhang,
        &head,
        MemberPatch {
            phone: Some(Some("13812349999".into())),
            ..Default::default()
        },
    )?;
    zhao.store.set_tag(&zhang, CareTag::ElderlyAlone, true)?;
    zhao.store.update_household(
        &zhang,
        HouseholdPatch {
            notes: Some("独居，女儿每周来一次".into()),
            ..Default::default()
        },
    )?;
    let leak = zhao.store.report_incident(NewIncident {
        category: IncidentCategory::LeakRepair,
        description: "楼上卫生间漏水渗到101".into(),
        place_id: None,
        household_id: Some(zhang.clone()),
        priority: Priority::High,
        assignee: None,
        dispute: None,
    })?;
    wang.store.create_household(NewHousehold {
        place_id: UNIT_9_1.into(),
        room: "501".into(),
        residency: Residency::Resident,
        housing: Housing::Owned,
        tags: vec![],
        notes: String::new(),
        members: vec![member("周敏", Relation::Head, None, 1980)],
    })?;

    writeln!(out, "4. 回到有信号处，按任意顺序同步")?;
    zhao.sync(out).await?;
    li.sync(out).await?;
    wang.sync(out).await?;
    admin.sync(out).await?;

    writeln!(out, "5. {} 受理、处理并办结漏水事件", li.name)?;
    li.store
        .move_incident(&leak, IncidentAction::Accept, "已受理")?;
    li.store.move_incident(&leak, IncidentAction::Start, "")?;
    li.store
        .move_incident(&leak, IncidentAction::Resolve, "已修复防水层")?;
    li.sync(out).await?;
    for p in [&zhao, &admin] {
        p.sync(out).await?;
    }

    writeln!(
        out,
        "6. {} 上报楼道飞线充电，无人受理；服务器时钟快进16分钟，超时督办扫描运行",
        zhao.name
    )?;
    let wires = zhao.store.report_incident(NewIncident {
        category: IncidentCategory::FlyingWireCharging,
        description: "1栋楼道有电动车飞线充电".into(),
        place_id: Some(UNIT_1_1.into()),
        household_id: None,
        priority: Priority::Normal,
        assignee: None,
        dispute: None,
    })?;
    zhao.sync(out).await?;
    let escalated = clock.advance_and_sweep(16 * 60 * 1000).await?;
    writeln!(out, "  督办扫描：升级 {escalated} 件超时事件")?;
    for p in [&zhao, &li, &admin] {
        p.sync(out).await?;
    }

    writeln!(out, "\n== 合并结果 ==")?;
    for p in [&li, &zhao] {
        let h = p.store.household(&zhang)?;
        let tags: Vec<&str> = h.tags.iter().map(|t| t.label()).collect();
        let phone = h
            .members
            .first()
            .and_then(|m| m.phone.clone())
            .unwrap_or_default();
        writeln!(
            out,
            "  {}：张秀英家 标签[{}] 备注「{}」 电话尾号{} 走访{}次",
            p.name,
            tags.join("、"),
            h.notes,
            phone
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>(),
            h.visits.len()
        )?;
    }
    let same = li.store.household(&zhang)? == zhao.store.household(&zhang)?;
    writeln!(
        out,
        "  两台手机上的这一户完全一致：{}",
        if same { "是" } else { "否" }
    )?;
    for p in [&li, &zhao, &admin] {
        let i = p.store.incident(&leak)?;
        writeln!(out, "  {} 看到漏水事件状态：{}", p.name, i.status.label())?;
    }
    for p in [&li, &zhao, &admin] {
        let i = p.store.incident(&wires)?;
        let by_system = i.events.iter().any(|e| e.by == "system");
        writeln!(
            out,
            "  {} 看到飞线充电事件：{}，责任层级：{}{}",
            p.name,
            i.status.label(),
            i.level.label(),
            if by_system {
                "（超过15分钟未响应，系统已自动督办升级）"
            } else {
                ""
            }
        )?;
    }
    writeln!(out, "  各自能看到的住户（按权限范围）：")?;
    for p in [&li, &wang, &zhao, &admin] {
        writeln!(
            out,
            "    {}：第一网格 {} 户，第二网格 {} 户",
            p.name,
            p.store.households_in(GRID_1)?.len(),
            p.store.households_in(GRID_2)?.len()
        )?;
    }
    writeln!(out)?;
    Ok(())
}
