package cn.linli.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import uniffi.linli.LinliStore
import uniffi.linli.Need
import uniffi.linli.NeedCategory
import uniffi.linli.NewVisit
import uniffi.linli.VisitPurpose

/** The visit form's fields, by the names the core's validation uses for them. */
enum class VisitField(internal val coreName: String) {
    NEEDS("need"),
    DONE_ON_SPOT("done_on_spot"),
    TIME("at"),
    ;

    internal companion object {
        fun of(coreName: String) = entries.firstOrNull { it.coreName == coreName }
    }
}

data class VisitFormUi(
    val purpose: VisitPurpose = VisitPurpose.ASK_NEEDS,
    val needs: List<Need> = emptyList(),
    val doneOnSpot: String = "",
    val followUp: Boolean = false,
    /** When the visit happened, if not now (a visit entered afterwards). */
    val at: Long? = null,
    val saving: Boolean = false,
    val errors: Map<VisitField, FieldError<VisitField>> = emptyMap(),
    val notice: Notice? = null,
    /** Set once saved: the screen closes. */
    val savedVisitId: String? = null,
)

/**
 * Recording a door-knock visit (敲门问需). The core validates; a refused value comes back
 * as an error on its field and nothing is written.
 */
class VisitFormState(
    private val store: LinliStore,
    val householdId: String,
    private val io: CoroutineDispatcher,
) {
    private val mutableUi = MutableStateFlow(VisitFormUi())
    val ui: StateFlow<VisitFormUi> = mutableUi.asStateFlow()

    fun setPurpose(purpose: VisitPurpose) = mutableUi.update { it.copy(purpose = purpose) }

    fun addNeed(category: NeedCategory) =
        mutableUi.update { it.copy(needs = it.needs + Need(category, "")) }

    fun setNeedText(index: Int, text: String) = mutableUi.update {
        it.copy(needs = it.needs.mapIndexed { i, need -> if (i == index) need.copy(text = text) else need })
    }

    fun removeNeed(index: Int) =
        mutableUi.update { it.copy(needs = it.needs.filterIndexed { i, _ -> i != index }) }

    fun setDoneOnSpot(text: String) = mutableUi.update {
        it.copy(doneOnSpot = text, errors = it.errors - VisitField.DONE_ON_SPOT)
    }

    fun setFollowUp(followUp: Boolean) = mutableUi.update { it.copy(followUp = followUp) }

    fun setTime(at: Long?) = mutableUi.update { it.copy(at = at, errors = it.errors - VisitField.TIME) }

    /** Saves the visit; true when written. */
    suspend fun submit(): Boolean {
        val form = ui.value
        if (form.saving || form.savedVisitId != null) return false
        mutableUi.update { it.copy(saving = true, errors = emptyMap(), notice = null) }
        val visit = NewVisit(
            householdId = householdId,
            at = form.at,
            purpose = form.purpose,
            needs = form.needs,
            doneOnSpot = form.doneOnSpot,
            followUp = form.followUp,
        )
        val result = trySave(io) { store.recordVisit(visit) }
        mutableUi.update {
            when (result) {
                is Submission.Saved -> it.copy(saving = false, savedVisitId = result.value)
                is Submission.Refused -> when (val field = VisitField.of(result.field)) {
                    null -> it.copy(saving = false, notice = Notice(Message.CHECK_FORM))
                    else -> it.copy(saving = false, errors = mapOf(field to FieldError(field, result.reason)))
                }
                is Submission.Failed -> it.copy(saving = false, notice = result.notice)
            }
        }
        return result is Submission.Saved
    }
}
