package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.withContext
import uniffi.linli.DataChange
import uniffi.linli.IncidentCategory
import uniffi.linli.LinliStore
import uniffi.linli.NeedAction
import uniffi.linli.NeedMoveDetail
import uniffi.linli.NeedSummary
import uniffi.linli.NewNeedIncident
import uniffi.linli.Priority

/** One need of a list, with how it stands against its due date at the time of the load. */
data class NeedRow(val need: NeedSummary, val overdue: Boolean, val dueInMs: Long)

data class NeedsUi(
    val loading: Boolean = true,
    /** A place of any level, or null for every need on the phone (the user's places). */
    val placeId: String? = null,
    /** Open or in hand (待跟进 / 跟进中), the earliest due first. */
    val open: List<NeedRow> = emptyList(),
    /** Follow-ups due (待回访): open or in hand and due by now + the horizon. */
    val due: List<NeedRow> = emptyList(),
    val overdueCount: Int = 0,
    val notice: Notice? = null,
)

/**
 * Needs raised on door-knock visits, followed up (需求跟进): the open needs of the user's
 * places and the follow-ups due, both read from the core's query table, and the moves on a
 * need (take, done, reopen, hand over, new due date, 转事件). The lists follow the store's
 * change notices, so a need taken on another phone moves once it has synced. A move the need
 * cannot make now (done or referred elsewhere) becomes a notice and the lists reload.
 *
 * [horizonMs]: how far ahead "due" looks (a day by default: today's follow-ups).
 */
class NeedsState(
    store: LinliStore,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
    private val horizonMs: Long = 24L * 3600 * 1000,
    private val clock: () -> Long = { store.now() },
) : StoreScreen<NeedsUi>(NeedsUi(), store, scope, io) {

    init {
        start()
    }

    fun setPlace(placeId: String?) {
        update { it.copy(placeId = placeId) }
        reload()
    }

    /** The moves the need allows now, from the core (refer is [toIncident]). */
    suspend fun moves(needId: String): List<NeedAction> =
        attempt(emptyList()) { store.needMoves(needId).filter { it != NeedAction.REFER } }

    /** 接手跟进: the user takes the need in hand (and becomes its owner). */
    suspend fun take(needId: String): Boolean = move(needId, NeedAction.TAKE)

    /** 办结. */
    suspend fun done(needId: String, note: String = ""): Boolean = move(needId, NeedAction.DONE, note)

    suspend fun reopen(needId: String, note: String = ""): Boolean = move(needId, NeedAction.REOPEN, note)

    /** 转交: hands the need to [owner] (a user id). */
    suspend fun assign(needId: String, owner: String): Boolean =
        attempt(false) { store.assignNeed(needId, owner); true }

    /** 改期: a new due date (milliseconds). */
    suspend fun reschedule(needId: String, dueAt: Long): Boolean =
        attempt(false) { store.rescheduleNeed(needId, dueAt); true }

    /**
     * 转事件: reports an incident from the need (an empty [description] takes the need's
     * text); the need becomes referred. The incident's id, or null when refused.
     */
    suspend fun toIncident(
        needId: String,
        category: IncidentCategory,
        priority: Priority,
        description: String = "",
    ): String? = attempt(null) { store.needToIncident(needId, NewNeedIncident(category, priority, description)) }

    private suspend fun move(needId: String, action: NeedAction, note: String = ""): Boolean =
        attempt(false) { store.moveNeed(needId, action, NeedMoveDetail(note = note)); true }

    /** Runs a store call on [io]; a failure becomes the notice and the lists reload. */
    private suspend fun <R> attempt(fallback: R, call: () -> R): R =
        try {
            val result = withContext(io) { call() }
            update { it.copy(notice = null) }
            result
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            failed(e.toNotice())
            reload()
            fallback
        }

    override fun shows(change: DataChange) = change.households || change.incidents || change.reference

    override suspend fun load() {
        val placeId = ui.value.placeId
        val now = clock()
        val (open, due) = withContext(io) { store.openNeeds(placeId) to store.needsDue(now + horizonMs) }
        val row = { n: NeedSummary -> NeedRow(n, n.dueAt < now, n.dueAt - now) }
        // The core's due list covers the whole phone; in a place, keep that place's.
        val openIds = open.map { it.id }.toSet()
        update {
            if (it.placeId != placeId) {
                it
            } else {
                it.copy(
                    loading = false,
                    open = open.map(row),
                    due = due.filter { n -> placeId == null || n.id in openIds }.map(row),
                    overdueCount = open.count { n -> n.dueAt < now },
                )
            }
        }
    }

    override fun failed(notice: Notice) = update { it.copy(loading = false, notice = notice) }
}
