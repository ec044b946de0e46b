//! Every closed set of values in the domain (place kinds, care tags, incident statuses and
//! moves, …): stored as stable English codes in documents, tables and on the wire, with the
//! Chinese labels the apps show. The lowest module of the crate: the types here depend on
//! nothing else of ours, so errors and records can both use them.

use serde::{Deserialize, Serialize};

/// Declares a closed set of values stored as stable English codes, with Chinese labels for
/// the apps. Codes are what documents, tables and the wire carry; never reorder or rename one.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in documents and tables.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The label shown to users (Chinese).
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// A level of the place tree: street → community → grid → micro-grid (optional) →
    /// building → unit. Street and micro-grid came in protocol 2; they are appended because
    /// postcard encodes a variant by its index and version-1 apps know only the first four.
    PlaceKind {
        Community = "community", "社区";
        Grid = "grid", "网格";
        Building = "building", "楼栋";
        Unit = "unit", "单元";
        Street = "street", "街道";
        MicroGrid = "micro_grid", "微网格";
    }
);

code_enum!(
    /// 常住 / 流动.
    Residency {
        Resident = "resident", "常住";
        Floating = "floating", "流动";
    }
);

code_enum!(
    Housing {
        Owned = "owned", "自有";
        Rented = "rented", "租住";
        Resettlement = "resettlement", "安置房";
    }
);

code_enum!(
    /// 特殊人群 tags. They decide how often a household is visited.
    CareTag {
        ElderlyAlone = "elderly_alone", "空巢/独居老人";
        Disabled = "disabled", "残疾";
        LowIncome = "low_income", "困难群体";
        LeftBehindChild = "left_behind_child", "留守儿童";
        Veteran = "veteran", "退役军人";
        PartyMember = "party_member", "党员";
        Correction = "correction", "社区矫正/戒毒康复";
    }
);

code_enum!(
    Relation {
        Head = "head", "户主";
        Spouse = "spouse", "配偶";
        Child = "child", "子女";
        Parent = "parent", "父母";
        Grandchild = "grandchild", "孙辈";
        Grandparent = "grandparent", "祖辈";
        Sibling = "sibling", "兄弟姐妹";
        Tenant = "tenant", "租户";
        Other = "other", "其他";
    }
);

code_enum!(
    VisitPurpose {
        Routine = "routine", "例行走访";
        AskNeeds = "ask_needs", "敲门问需";
        FollowUp = "follow_up", "回访";
        Care = "care", "关爱慰问";
        Policy = "policy", "政策宣传";
        Registration = "registration", "信息采集";
        Other = "other", "其他";
    }
);

code_enum!(
    NeedCategory {
        Repair = "repair", "维修";
        ElderCare = "elder_care", "养老照护";
        Dispute = "dispute", "矛盾纠纷";
        Policy = "policy", "政策咨询";
        MicroWish = "micro_wish", "微心愿";
        Employment = "employment", "就业";
        Health = "health", "医疗健康";
        Other = "other", "其他";
    }
);

impl NeedCategory {
    /// How many days a need of this category waits for its follow-up by default (editable
    /// per need): elder care and health within a day or two, repairs within three days,
    /// questions and jobs within a week, micro-wishes within two weeks.
    pub fn default_due_days(self) -> i64 {
        match self {
            NeedCategory::ElderCare | NeedCategory::Dispute => 1,
            NeedCategory::Health => 2,
            NeedCategory::Repair => 3,
            NeedCategory::Policy | NeedCategory::Employment | NeedCategory::Other => 7,
            NeedCategory::MicroWish => 14,
        }
    }
}

code_enum!(
    /// Where a need raised on a visit stands: 待跟进 → 跟进中 → 已办结 / 已转事件.
    NeedStatus {
        Open = "open", "待跟进";
        InHand = "in_hand", "跟进中";
        Done = "done", "已办结";
        Referred = "referred", "已转事件";
    }
);

code_enum!(
    /// A change to a need, kept as an event. `other` is a code this app does not know
    /// (written by a newer one): kept, skipped by the fold.
    NeedAction {
        Take = "take", "接手跟进";
        Done = "done", "办结";
        Refer = "refer", "转为事件";
        Reopen = "reopen", "重新打开";
        Assign = "assign", "转交";
        Reschedule = "reschedule", "改期";
        Other = "other", "其他";
    }
);

impl CareTag {
    /// Whether the tag marks a household that needs visits more often than others.
    /// Party membership is a register fact, not a care need.
    pub fn needs_care(self) -> bool {
        !matches!(self, CareTag::PartyMember)
    }
}

code_enum!(
    IncidentCategory {
        Dispute = "dispute", "矛盾纠纷";
        Parking = "parking", "违规停车";
        Noise = "noise", "噪音扰民";
        HighRiseLittering = "high_rise_littering", "高空抛物";
        FlyingWireCharging = "flying_wire_charging", "飞线充电";
        LeakRepair = "leak_repair", "漏水维修";
        SafetyHazard = "safety_hazard", "安全隐患";
        Other = "other", "其他";
    }
);

code_enum!(
    /// Decides the resolution target (see `targets.rs`).
    Priority {
        Low = "low", "低";
        Normal = "normal", "一般";
        High = "high", "高";
        Urgent = "urgent", "紧急";
    }
);

code_enum!(
    /// Where an incident is in its closed loop. Never stored: derived from the events.
    IncidentStatus {
        Reported = "reported", "已上报";
        Accepted = "accepted", "已受理";
        Dispatched = "dispatched", "已派单";
        InProgress = "in_progress", "处理中";
        Resolved = "resolved", "已办结";
        Closed = "closed", "已反馈关闭";
    }
);

code_enum!(
    /// A move in an incident's loop; each is recorded as an event. `Other` is a move
    /// recorded by a newer app that this code does not know: kept in the history, skipped
    /// when the status is derived, never offered or written.
    IncidentAction {
        Accept = "accept", "受理";
        Start = "start", "开始处理";
        Resolve = "resolve", "办结";
        Close = "close", "关闭";
        Reopen = "reopen", "重新打开";
        Dispatch = "dispatch", "派单";
        Return = "return", "退单";
        Feedback = "feedback", "回访";
        Escalate = "escalate", "督办";
        Other = "other", "其他";
    }
);

code_enum!(
    /// Why a handler hands an order back (退单). Counted per handler.
    ReturnReason {
        Jurisdiction = "jurisdiction", "属地不符";
        Ownership = "ownership", "权属不清";
        Overlap = "overlap", "职能交叉";
        Other = "other", "其他";
    }
);

code_enum!(
    /// The resident's verdict on a callback (回访评价).
    Rating {
        Satisfied = "satisfied", "满意";
        Basic = "basic", "基本满意";
        Unsatisfied = "unsatisfied", "不满意";
    }
);

code_enum!(
    /// How a dispute (矛盾纠纷) ended.
    DisputeOutcome {
        Mediated = "mediated", "调解成功";
        Failed = "failed", "调解未成功";
        Transferred = "transferred", "转办";
    }
);

code_enum!(
    /// Who is answerable for an incident now: it starts with the grid and each missed target
    /// raises it one level (督办).
    Level {
        Grid = "grid", "网格";
        Community = "community", "社区";
        Street = "street", "街道";
    }
);

code_enum!(
    /// Departments and organisations an incident can be dispatched to (派单到部门).
    Department {
        Property = "property", "物业";
        UrbanManagement = "urban_management", "城管";
        Police = "police", "派出所";
        Mediation = "mediation", "调委会";
        Other = "other", "其他部门";
    }
);

impl IncidentAction {
    /// The moves in the order an action menu lists them.
    pub const MENU: &'static [IncidentAction] = &[
        IncidentAction::Accept,
        IncidentAction::Dispatch,
        IncidentAction::Start,
        IncidentAction::Resolve,
        IncidentAction::Return,
        IncidentAction::Feedback,
        IncidentAction::Escalate,
        IncidentAction::Close,
        IncidentAction::Reopen,
    ];
}

code_enum!(
    /// Why a value was refused (`Error::InvalidInput`'s reason): a stable code the apps turn
    /// into their own words, with a Chinese hint as its label. Never the value itself.
    Reason {
        Required = "required", "必填";
        TooLong = "too_long", "过长";
        ControlCharacters = "control_characters", "含有不可见字符";
        OutOfRange = "out_of_range", "超出范围";
        BadFormat = "bad_format", "格式不正确";
        CheckCharacter = "check_character", "校验位不符";
        WrongPlace = "wrong_place", "地点不符";
        NotAllowedHere = "not_allowed_here", "此处不适用";
        Duplicate = "duplicate", "重复";
        Unknown = "unknown", "无法识别";
    }
);

code_enum!(
    /// A person's sex as the register records it (性别).
    Gender {
        Male = "male", "男";
        Female = "female", "女";
    }
);

code_enum!(
    /// A person's residence status (户籍 / 常住 / 流动): registered here, living here, or
    /// floating population. The household's own `Residency` is kept as it was.
    PersonResidence {
        Registered = "registered", "户籍";
        Resident = "resident", "常住";
        Floating = "floating", "流动";
    }
);
