package cn.linli.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.withContext
import uniffi.linli.DataChange
import uniffi.linli.Household
import uniffi.linli.LinliStore
import uniffi.linli.VisitSummary
import uniffi.linli.defaultVisitPolicy

data class HouseholdDetailUi(
    val loading: Boolean = true,
    /** Null until loaded, or when the household is not on this phone ([notice] says so). */
    val household: Household? = null,
    /** Newest first. */
    val visits: List<VisitSummary> = emptyList(),
    val dueForVisit: Boolean = false,
    /** Whether the user's role sees phones and sensitive tags (grid workers and admins). */
    val showSensitive: Boolean = false,
    val notice: Notice? = null,
)

/** One household with its members, tags and visit history; follows edits from anywhere. */
class HouseholdDetailState(
    store: LinliStore,
    val householdId: String,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
    private val clock: () -> Long = { store.now() },
) : StoreScreen<HouseholdDetailUi>(HouseholdDetailUi(), store, scope, io) {
    private val policy = defaultVisitPolicy()

    init {
        start()
    }

    override fun shows(change: DataChange) = householdId in change.docIds

    override suspend fun load() {
        val next = withContext(io) {
            val household = store.household(householdId)
            val address = household.address
            // The smallest place holding the household: the due query then reads a few rows.
            val place = address.unitId ?: address.buildingId ?: address.gridId
            val due = store.householdsDue(place, policy, clock()).any { it.id == householdId }
            HouseholdDetailUi(
                loading = false,
                household = household,
                visits = store.visitsOf(householdId),
                dueForVisit = due,
                showSensitive = store.seesSensitive(),
            )
        }
        update { next }
    }

    override fun failed(notice: Notice) = update { it.copy(loading = false, notice = notice) }
}
