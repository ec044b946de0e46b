package cn.linli.app

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.material3.MaterialTheme
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.produceState
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import cn.linli.app.state.toNotice
import cn.linli.app.ui.LinliApp
import cn.linli.app.ui.LoadingScreen
import cn.linli.app.ui.NoticeScreen
import cn.linli.app.ui.SignInScreen
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val app = application as LinliApplication
        setContent {
            MaterialTheme {
                var account by remember { mutableStateOf(app.accounts.load()) }
                val signedIn = account
                if (signedIn == null) {
                    SignInScreen(onSignedIn = { app.accounts.save(it); account = it })
                } else {
                    val store by produceState<Result<uniffi.linli.LinliStore>?>(null, signedIn) {
                        value = withContext(Dispatchers.IO) { runCatching { app.store(signedIn) } }
                    }
                    store?.fold(
                        onSuccess = { LinliApp(it, signedIn.syncSettings) },
                        onFailure = { NoticeScreen(it.toNotice()) },
                    ) ?: LoadingScreen()
                }
            }
        }
    }
}
