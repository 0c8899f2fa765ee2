<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru">
<context>
    <name>App</name>
    <message>
        <location filename="../app/hearth/ui/app.py" line="29"/>
        <source>Hearth cannot start: %1</source>
        <translation>Hearth не может запуститься: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/app.py" line="38"/>
        <source>Hearth could not start its service on port %1 (is Hearth already running?): %2</source>
        <translation>Hearth не смог запустить службу на порту %1 (может быть, Hearth уже запущен?): %2</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="114"/>
        <source>Conversations</source>
        <translation>Разговоры</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="121"/>
        <source>New chat</source>
        <translation>Новый диалог</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="136"/>
        <source>Open the Planner</source>
        <translation>Открыть планировщик</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="145"/>
        <source>System prompt (optional)</source>
        <translation>Системная подсказка (необязательно)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="146"/>
        <source>System prompt</source>
        <translation>Системная подсказка</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="161"/>
        <source>Conversation</source>
        <translation>Разговор</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="172"/>
        <source>Ask something… (Ctrl+Enter sends)</source>
        <translation>Спросите что-нибудь… (Ctrl+Enter — отправить)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="174"/>
        <source>Message</source>
        <translation>Сообщение</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="179"/>
        <location filename="../app/hearth/ui/chat_page.py" line="590"/>
        <source>Send</source>
        <translation>Отправить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="181"/>
        <source>Regenerate</source>
        <translation>Ответить заново</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="183"/>
        <source>Edit question</source>
        <translation>Изменить вопрос</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="184"/>
        <source>Take back the last question and its answer to change it</source>
        <translation>Вернуть последний вопрос в поле ввода и убрать ответ на него, чтобы изменить вопрос</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="186"/>
        <source>Copy answer</source>
        <translation>Копировать ответ</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="192"/>
        <source>context %p%</source>
        <translation>контекст %p%</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="193"/>
        <source>Context used</source>
        <translation>Заполнение контекста</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="198"/>
        <source>Temperature</source>
        <translation>Температура</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="199"/>
        <source>Max tokens</source>
        <translation>Макс. токенов</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="354"/>
        <source>Rename…</source>
        <translation>Переименовать…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="355"/>
        <source>Export as Markdown…</source>
        <translation>Экспорт в Markdown…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="356"/>
        <source>Export as JSON…</source>
        <translation>Экспорт в JSON…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="358"/>
        <source>Delete</source>
        <translation>Удалить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="363"/>
        <source>Rename</source>
        <translation>Переименовать</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="363"/>
        <source>Title</source>
        <translation>Название</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="384"/>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="384"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="385"/>
        <source>Export conversation</source>
        <translation>Экспорт диалога</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="392"/>
        <source>Exported to %1</source>
        <translation>Экспортировано в %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="433"/>
        <source>No model loaded: choose one on the Planner page.</source>
        <translation>Модель не загружена: выберите её на странице «Планировщик».</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="541"/>
        <source>%1 tokens/s · first token %2 ms · %3</source>
        <translation>%1 токенов/с · первый токен %2 мс · %3</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="402"/>
        <source>%1 on %2</source>
        <translation>%1 на %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="407"/>
        <source>continues text; not tuned for chat</source>
        <translation>продолжает текст; не обучена для диалога</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="420"/>
        <source>%1 left, so the model stopped. The Planner proposes a plan over the devices left.</source>
        <translation>%1 отключилось, поэтому модель остановлена. Планировщик предлагает план для оставшихся устройств.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="425"/>
        <source>Planning again did not work: %1</source>
        <translation>Не удалось спланировать заново: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="428"/>
        <source>Devices that joined would make this model faster: %1 tokens/s instead of %2.</source>
        <translation>С новыми устройствами модель работала бы быстрее: %1 токенов/с вместо %2.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="495"/>
        <source>Copy code block</source>
        <translation>Копировать блок кода</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="538"/>
        <source>%1 % of guesses kept</source>
        <translation>угадано %1 %</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="548"/>
        <source>Stopped</source>
        <translation>Остановлено</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="567"/>
        <source>Waiting for a place: the model gives %n answers at once, all taken.</source>
        <translation>
            <numerusform>Ожидание места: модель даёт %n ответ одновременно, все заняты.</numerusform>
            <numerusform>Ожидание места: модель даёт %n ответа одновременно, все заняты.</numerusform>
            <numerusform>Ожидание места: модель даёт %n ответов одновременно, все заняты.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="573"/>
        <source>Answering another app…</source>
        <translation>Отвечаю другому приложению…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="575"/>
        <source>%n answers running</source>
        <translation>
            <numerusform>идёт %n ответ</numerusform>
            <numerusform>идут %n ответа</numerusform>
            <numerusform>идут %n ответов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="579"/>
        <source>%n more waiting</source>
        <translation>
            <numerusform>ещё %n ждёт</numerusform>
            <numerusform>ещё %n ждут</numerusform>
            <numerusform>ещё %n ждут</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="590"/>
        <source>Stop</source>
        <translation>Остановить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>You</source>
        <translation>Вы</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>Hearth</source>
        <translation>Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>System</source>
        <translation>Система</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="603"/>
        <source>Copy</source>
        <translation>Копировать</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="603"/>
        <source>code</source>
        <translation>код</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="625"/>
        <source>stopped</source>
        <translation>остановлено</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="627"/>
        <source>failed: %1</source>
        <translation>ошибка: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="629"/>
        <source>failed</source>
        <translation>ошибка</translation>
    </message>
</context>
<context>
    <name>Cli</name>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="73"/>
        <source>this device</source>
        <translation>это устройство</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="75"/>
        <source>pooled over %1: %2</source>
        <translation>объединено: %1; план %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="128"/>
        <source>could not load %1: %2</source>
        <translation>не удалось загрузить %1: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="148"/>
        <source>stopped</source>
        <translation>остановлено</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="153"/>
        <source>the answer stopped: %1</source>
        <translation>ответ прервался: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="164"/>
        <source>Type a message and press Enter. Ctrl-C stops an answer; /exit or Ctrl-D leaves.</source>
        <translation>Введите сообщение и нажмите Enter. Ctrl-C останавливает ответ; /exit или Ctrl-D — выход.</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="185"/>
        <source>cannot pool again: %1</source>
        <translation>не удалось снова объединить устройства: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="63"/>
        <source>nothing found</source>
        <translation>ничего не найдено</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="68"/>
        <source>embedding model</source>
        <translation>модель эмбеддингов</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="135"/>
        <source>paused: run the same command again to resume</source>
        <translation>приостановлено: запустите ту же команду ещё раз, чтобы продолжить</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="180"/>
        <source>%1 shows a 6-digit code.</source>
        <translation>%1 показывает 6-значный код.</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="191"/>
        <source>pairing failed: %1</source>
        <translation>сопряжение не удалось: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="193"/>
        <source>paired with %1</source>
        <translation>сопряжено с %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="199"/>
        <source>Code: </source>
        <translation>Код: </translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="202"/>
        <source>no code was entered</source>
        <translation>код не введён</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="219"/>
        <source>forgot %1</source>
        <translation>забыто: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="228"/>
        <source>added %1 at %2</source>
        <translation>добавлено: %1 по адресу %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="229"/>
        <source>pair with: %1</source>
        <translation>для сопряжения: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/plan.py" line="129"/>
        <source>plan %1  ·  %2 tokens/s predicted  ·  context %3</source>
        <translation>план %1  ·  прогноз %2 токенов/с  ·  контекст %3</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/plan.py" line="145"/>
        <source>Compute buffers as llama.cpp sizes them for this plan.</source>
        <translation>Вычислительные буферы — по расчёту llama.cpp для этого плана.</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="50"/>
        <source>loading %1 with plan %2 (context %3)</source>
        <translation>загрузка %1 по плану %2 (контекст %3)</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="63"/>
        <source>serving %1 at %2</source>
        <translation>%1 доступна по адресу %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="71"/>
        <source>every request needs the key: `hearth serve` shows it with --show-key</source>
        <translation>каждому запросу нужен ключ: `hearth serve` покажет его с --show-key</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="77"/>
        <source>paired devices&apos; apps may be answered here too</source>
        <translation>здесь могут получать ответы и приложения сопряжённых устройств</translation>
    </message>
</context>
<context>
    <name>CodeDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="99"/>
        <source>Pairing request</source>
        <translation>Запрос на сопряжение</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="101"/>
        <source>%1 wants to pair with this device. Type this code there:</source>
        <translation>%1 хочет сопрячься с этим устройством. Введите там этот код:</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="113"/>
        <source>Only pair with devices you own. The code is valid for %1 seconds.</source>
        <translation>Сопрягайте только свои устройства. Код действует %1 с.</translation>
    </message>
</context>
<context>
    <name>DeviceCard</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="48"/>
        <source>Pair…</source>
        <translation>Сопрячь…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="50"/>
        <source>Forget</source>
        <translation>Забыть</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="67"/>
        <source> (this device)</source>
        <translation> (это устройство)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="75"/>
        <source>%1 memory</source>
        <translation>Память: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="81"/>
        <location filename="../app/hearth/ui/devices_page.py" line="149"/>
        <source>Used</source>
        <translation>Занято</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="82"/>
        <location filename="../app/hearth/ui/devices_page.py" line="151"/>
        <source>Donated</source>
        <translation>Отдано</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="86"/>
        <source>%1 used · %2 free of %3</source>
        <translation>занято %1 · свободно %2 из %3</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="88"/>
        <location filename="../app/hearth/ui/devices_page.py" line="161"/>
        <source>donates %1</source>
        <translation>отдаёт %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="90"/>
        <source>RAM: %1</source>
        <translation>ОЗУ: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="97"/>
        <source>Donating to paired devices</source>
        <translation>Отдаёт ресурсы сопряжённым устройствам</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="97"/>
        <source>Not donating</source>
        <translation>Не отдаёт ресурсы</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="99"/>
        <source>Paired · connected · %1 ms</source>
        <translation>Сопряжено · подключено · %1 мс</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="101"/>
        <source>Paired · not reachable</source>
        <translation>Сопряжено · недоступно</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="105"/>
        <source>Not paired</source>
        <translation>Не сопряжено</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="105"/>
        <source>Not paired · offline</source>
        <translation>Не сопряжено · не в сети</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="109"/>
        <source>answers paired devices&apos; apps with %1</source>
        <translation>отвечает приложениям сопряжённых устройств моделью %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="111"/>
        <source>answers your apps with %1</source>
        <translation>отвечает вашим приложениям моделью %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="114"/>
        <source>(%1 of %2 places taken)</source>
        <translation>(занято мест: %1 из %2)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="117"/>
        <source>idle · would load %1 for paired devices&apos; apps</source>
        <translation>свободно · загрузит %1 для приложений сопряжённых устройств</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="119"/>
        <source>idle · would load %1 for your apps</source>
        <translation>свободно · загрузит %1 для ваших приложений</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="145"/>
        <source>%1 · shares the RAM</source>
        <translation>%1 · использует общую ОЗУ</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="154"/>
        <source>%1 · GPU memory: %2 used · %3 free of %4</source>
        <translation>%1 · память GPU: занято %2 · свободно %3 из %4</translation>
    </message>
</context>
<context>
    <name>DeviceColumn</name>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="74"/>
        <source>System</source>
        <translation>Система</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="75"/>
        <source>Weights</source>
        <translation>Веса</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="76"/>
        <source>KV cache</source>
        <translation>KV-кэш</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="77"/>
        <source>Compute</source>
        <translation>Вычисления</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="81"/>
        <source>no layers</source>
        <translation>нет слоёв</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="83"/>
        <source>layers %1–%2</source>
        <translation>слои %1–%2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="84"/>
        <source>needs %1 of %2</source>
        <translation>нужно %1 из %2</translation>
    </message>
</context>
<context>
    <name>DevicesPage</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="171"/>
        <source>Add by address…</source>
        <translation>Добавить по адресу…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="176"/>
        <source>Devices in this home appear here by themselves.</source>
        <translation>Устройства этого дома появляются здесь сами.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="219"/>
        <source>Forget %1?</source>
        <translation>Забыть %1?</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="220"/>
        <source>%1 will no longer be trusted; pairing again needs a new code.</source>
        <translation>%1 больше не будет доверенным; для нового сопряжения понадобится новый код.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="234"/>
        <source>Add a device</source>
        <translation>Добавить устройство</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="235"/>
        <source>Address (host:port) of a device running Hearth</source>
        <translation>Адрес (хост:порт) устройства, на котором запущен Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="248"/>
        <source>Could not add it: %1</source>
        <translation>Не удалось добавить: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="243"/>
        <source>Found %1</source>
        <translation>Найдено: %1</translation>
    </message>
</context>
<context>
    <name>DownloadRow</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="44"/>
        <source>Cancel</source>
        <translation>Отменить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="47"/>
        <source>Plan and chat</source>
        <translation>Спланировать и общаться</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="48"/>
        <source>Open the Planner with this model</source>
        <translation>Открыть планировщик с этой моделью</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="68"/>
        <source>%1 of %2</source>
        <translation>%1 из %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="72"/>
        <source>%1/s</source>
        <translation>%1/с</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="74"/>
        <source>%1 left</source>
        <translation>осталось %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="77"/>
        <source>Paused at %1</source>
        <translation>Приостановлено: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="79"/>
        <source>Stopped: %1</source>
        <translation>Остановлено: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="81"/>
        <source>Done: %1</source>
        <translation>Готово: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="83"/>
        <source>Pause</source>
        <translation>Пауза</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="83"/>
        <source>Resume</source>
        <translation>Продолжить</translation>
    </message>
</context>
<context>
    <name>DownloadsView</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="102"/>
        <source>No downloads. Pick a model from the catalog or a hub search.</source>
        <translation>Загрузок нет. Выберите модель в каталоге или найдите её на хабе.</translation>
    </message>
</context>
<context>
    <name>GuessingBox</name>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="20"/>
        <source>A draft model of the library, else the answer&apos;s own text</source>
        <translation>Черновая модель из библиотеки, иначе сам текст ответа</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="21"/>
        <source>From the answer&apos;s own text only</source>
        <translation>Только по тексту самого ответа</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="22"/>
        <source>Off</source>
        <translation>Выключено</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="28"/>
        <source>A small model with the same tokenizer, or the text said so far, guesses the next few tokens and the model checks them in one pass: the same answer, sooner. Applies to the next model loaded.</source>
        <translation>Небольшая модель с тем же токенизатором или уже сказанный текст угадывает следующие несколько токенов, а модель проверяет их за один проход: тот же ответ, но быстрее. Применяется к следующей загруженной модели.</translation>
    </message>
</context>
<context>
    <name>GuessingLine</name>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="46"/>
        <source>Guessing ahead is off (Settings).</source>
        <translation>Угадывание наперёд выключено (Настройки).</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="57"/>
        <source>Guesses ahead from the answer&apos;s own text: no memory beyond the model.</source>
        <translation>Угадывает наперёд по тексту самого ответа: памяти сверх модели не нужно.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="60"/>
        <source>%1% of its guesses kept so far.</source>
        <translation>Пока принято %1% его догадок.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="66"/>
        <source>Guesses ahead with %1 (%2 more here): up to %3× as fast where a pass costs about one token</source>
        <translation>Угадывает наперёд с %1 (ещё %2 здесь): до %3× быстрее там, где проход стоит примерно как один токен</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="74"/>
        <source>from %1% of its guesses kept so far.</source>
        <translation>по %1% принятых пока догадок.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="76"/>
        <source>expected until answers measure it.</source>
        <translation>ожидаемо, пока ответы это не измерят.</translation>
    </message>
</context>
<context>
    <name>HubList</name>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="46"/>
        <source>fits this device</source>
        <translation>помещается на этом устройстве</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/hub_list.py" line="48"/>
        <source>fits with your paired devices (%n devices)</source>
        <translation>
            <numerusform>помещается на сопряжённых устройствах (%n устройство)</numerusform>
            <numerusform>помещается на сопряжённых устройствах (%n устройства)</numerusform>
            <numerusform>помещается на сопряжённых устройствах (%n устройств)</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="50"/>
        <source>too large</source>
        <translation>слишком велика</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="51"/>
        <source>about %1 tokens/s</source>
        <translation>около %1 токенов/с</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Model</source>
        <translation>Модель</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Quantization</source>
        <translation>Квантование</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Size</source>
        <translation>Размер</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Fits</source>
        <translation>Помещается</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="62"/>
        <source>checking…</source>
        <translation>проверка…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="94"/>
        <source>unknown: the hub cannot be reached</source>
        <translation>неизвестно: хаб недоступен</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="96"/>
        <source>unknown: %1</source>
        <translation>неизвестно: %1</translation>
    </message>
</context>
<context>
    <name>LayerStrip</name>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="199"/>
        <source>Pick a model</source>
        <translation>Выберите модель</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="215"/>
        <source>out</source>
        <translation>выход</translation>
    </message>
</context>
<context>
    <name>Legend</name>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="26"/>
        <source>System and other apps</source>
        <translation>Система и другие программы</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="27"/>
        <source>Weights</source>
        <translation>Веса</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="28"/>
        <source>KV cache</source>
        <translation>KV-кэш</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="29"/>
        <source>Compute buffers</source>
        <translation>Буферы вычислений</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="30"/>
        <source>Free</source>
        <translation>Свободно</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="59"/>
        <source>Pages</source>
        <translation>Разделы</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="99"/>
        <source>&amp;Hearth</source>
        <translation>&amp;Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="100"/>
        <source>&amp;Quit</source>
        <translation>&amp;Выйти</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="107"/>
        <source>&amp;Help</source>
        <translation>&amp;Справка</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="108"/>
        <source>Keyboard &amp;shortcuts</source>
        <translation>&amp;Сочетания клавиш</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="118"/>
        <source>Go to the page: Devices, Planner, Chat, Models, Settings</source>
        <translation>Перейти на страницу: устройства, планировщик, чат, модели, настройки</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="119"/>
        <source>Send the message (in the chat)</source>
        <translation>Отправить сообщение (в чате)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="120"/>
        <source>Tab</source>
        <translation>Tab</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="120"/>
        <source>Leave the message box for the next control</source>
        <translation>Перейти из поля сообщения к следующему элементу</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="121"/>
        <source>Quit Hearth</source>
        <translation>Выйти из Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="122"/>
        <source>Show these shortcuts</source>
        <translation>Показать эти сочетания</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="127"/>
        <source>Keyboard shortcuts</source>
        <translation>Сочетания клавиш</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="146"/>
        <source>Devices</source>
        <translation>Устройства</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="147"/>
        <source>Planner</source>
        <translation>Планировщик</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="148"/>
        <source>Chat</source>
        <translation>Чат</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="149"/>
        <source>Models</source>
        <translation>Модели</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="150"/>
        <source>Settings</source>
        <translation>Настройки</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="298"/>
        <source>Pairing request</source>
        <translation>Запрос на сопряжение</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="305"/>
        <source>Paired with %1.</source>
        <translation>Сопряжено с %1.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="311"/>
        <source>%1 wants to pair. Code: %2</source>
        <translation>%1 хочет сопрячься. Код: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="319"/>
        <source>Hearth keeps donating from the tray.</source>
        <translation>Hearth продолжает отдавать ресурсы из области уведомлений.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="327"/>
        <source>This desktop has no tray, so closing the window quits Hearth and stops donating.</source>
        <translation>На этом рабочем столе нет области уведомлений, поэтому закрытие окна завершит Hearth и прекратит отдачу ресурсов.</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="83"/>
        <source>Import a .gguf file…</source>
        <translation>Импортировать файл .gguf…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="79"/>
        <source>Models on this device</source>
        <translation>Модели на этом устройстве</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="57"/>
        <source>Models</source>
        <translation>Модели</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="58"/>
        <source>On this device</source>
        <translation>На этом устройстве</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="59"/>
        <location filename="../app/hearth/ui/models_page.py" line="232"/>
        <source>Catalog</source>
        <translation>Каталог</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="60"/>
        <source>Search the hub</source>
        <translation>Поиск на хабе</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="64"/>
        <source>Downloads</source>
        <translation>Загрузки</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="85"/>
        <source>Import an MLX folder…</source>
        <translation>Импортировать папку MLX…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="87"/>
        <source>A folder with config.json and .safetensors weights (mlx-lm&apos;s format)</source>
        <translation>Папка с config.json и весами .safetensors (формат mlx-lm)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="90"/>
        <source>Plan and chat</source>
        <translation>Спланировать и общаться</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="92"/>
        <source>Show in folder</source>
        <translation>Показать в папке</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="94"/>
        <source>Delete</source>
        <translation>Удалить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="120"/>
        <source>%1 — cannot be used: %2</source>
        <translation>%1 — нельзя использовать: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="122"/>
        <location filename="../app/hearth/ui/models_page.py" line="274"/>
        <source>embedding model</source>
        <translation>модель эмбеддингов</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="127"/>
        <source>continues text; not tuned for chat</source>
        <translation>продолжает текст; не обучена для диалога</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="133"/>
        <source>No models on this device yet. The Catalog tab suggests models that fit your devices.</source>
        <translation>На этом устройстве пока нет моделей. Во вкладке «Каталог» есть модели, которые подойдут вашим устройствам.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="158"/>
        <source>yes</source>
        <translation>да</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="158"/>
        <source>no: continues text; not tuned for chat</source>
        <translation>нет: продолжает текст; не обучена для диалога</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="160"/>
        <source>Architecture</source>
        <translation>Архитектура</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="161"/>
        <source>Parameters</source>
        <translation>Параметры</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="162"/>
        <source>Size</source>
        <translation>Размер</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="163"/>
        <source>Quantization</source>
        <translation>Квантование</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="164"/>
        <source>Layers</source>
        <translation>Слои</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="167"/>
        <source>%1 a layer, %2 for each token</source>
        <translation>%1 на слой, %2 на каждый токен</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="168"/>
        <source>Experts</source>
        <translation>Эксперты</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="170"/>
        <source>Context length</source>
        <translation>Длина контекста</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="171"/>
        <source>Licence</source>
        <translation>Лицензия</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="171"/>
        <source>not stated in the file</source>
        <translation>в файле не указана</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="172"/>
        <source>Chat template</source>
        <translation>Шаблон диалога</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="173"/>
        <source>File</source>
        <translation>Файл</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="192"/>
        <source>Delete %1 from this device?</source>
        <translation>Удалить %1 с этого устройства?</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="193"/>
        <source>Delete model</source>
        <translation>Удаление модели</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="199"/>
        <source>Deleted %1</source>
        <translation>Удалено: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="205"/>
        <source>Import an MLX model folder</source>
        <translation>Импорт папки модели MLX</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="212"/>
        <source>Import a model</source>
        <translation>Импорт модели</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="212"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>Модели GGUF (*.gguf);;Все файлы (*)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="216"/>
        <source>Checking %1…</source>
        <translation>Проверка %1…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="219"/>
        <source>%1 was not imported: %2</source>
        <translation>%1 не импортирован: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="224"/>
        <source>Imported %1</source>
        <translation>Импортировано: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="235"/>
        <location filename="../app/hearth/ui/models_page.py" line="336"/>
        <source>Download</source>
        <translation>Скачать</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="260"/>
        <source>Instruct models from small to 70B class. Each says whether it fits this device, your paired devices together, or neither.</source>
        <translation>Инструктивные модели — от маленьких до класса 70B. Для каждой указано, поместится ли она на этом устройстве, на сопряжённых устройствах вместе или нигде.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="272"/>
        <source>MoE</source>
        <translation>MoE</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="276"/>
        <source>pools well</source>
        <translation>хорошо делится</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="284"/>
        <source>mixture of experts: %1 B read a token</source>
        <translation>смесь экспертов: %1 млрд на токен</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="287"/>
        <source>calls tools</source>
        <translation>вызывает инструменты</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="289"/>
        <source>suits pooling</source>
        <translation>подходит для пула</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="290"/>
        <source>licence %1</source>
        <translation>лицензия %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="291"/>
        <source>context %1</source>
        <translation>контекст %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="300"/>
        <source>Asking the hub for %1…</source>
        <translation>Запрос к хабу: %1…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="304"/>
        <source>%n layers</source>
        <translation>
            <numerusform>%n слой</numerusform>
            <numerusform>%n слоя</numerusform>
            <numerusform>%n слоёв</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="320"/>
        <source>Welcome to Hearth. Start with a model: those marked &quot;fits this device&quot; run here alone, the others need your paired devices. Small ones download in minutes.</source>
        <translation>Добро пожаловать в Hearth. Начните с модели: помеченные «помещается на этом устройстве» работают здесь сами по себе, остальным нужны сопряжённые устройства. Небольшие модели скачиваются за минуты.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="329"/>
        <source>Search GGUF models on Hugging Face, e.g. &quot;qwen 7b&quot;</source>
        <translation>Поиск GGUF-моделей на Hugging Face, например «qwen 7b»</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="330"/>
        <source>Search text</source>
        <translation>Текст поиска</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="332"/>
        <source>Search</source>
        <translation>Найти</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="335"/>
        <source>Search results</source>
        <translation>Результаты поиска</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="357"/>
        <source>Searching the hub for %1…</source>
        <translation>Поиск на хабе: %1…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="381"/>
        <source>%n model file found</source>
        <translation>
            <numerusform>Найден %n файл модели</numerusform>
            <numerusform>Найдено %n файла модели</numerusform>
            <numerusform>Найдено %n файлов модели</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="383"/>
        <source>%n model files found</source>
        <translation>
            <numerusform>Найден %n файл модели</numerusform>
            <numerusform>Найдено %n файла модели</numerusform>
            <numerusform>Найдено %n файлов модели</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="406"/>
        <source>Downloaded %1. Next: Plan and chat, beside it on the Downloads tab.</source>
        <translation>%1 загружена. Дальше: «Спланировать и общаться» рядом с ней на вкладке загрузок.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="412"/>
        <source>%1 stopped: %2</source>
        <translation>%1 остановлена: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="394"/>
        <source>Downloading %1</source>
        <translation>Скачивается %1</translation>
    </message>
</context>
<context>
    <name>OtherAppsBox</name>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="27"/>
        <source>Other apps</source>
        <translation>Другие приложения</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="30"/>
        <source>Let apps on this device use the loaded model (OpenAI-compatible API)</source>
        <translation>Разрешить приложениям на этом устройстве пользоваться загруженной моделью (API, совместимый с OpenAI)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="32"/>
        <source>Also let other devices on the network use it (they need the key)</source>
        <translation>Разрешить и другим устройствам в сети (им нужен ключ)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="36"/>
        <source>none (web pages may not call it)</source>
        <translation>нет (веб-страницам нельзя)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="37"/>
        <source>Keep other apps&apos; conversations in the chat history</source>
        <translation>Сохранять разговоры других приложений в истории чата</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="38"/>
        <source>Also answer apps that speak only Ollama&apos;s API</source>
        <translation>Отвечать и приложениям, которые знают только API Ollama</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="41"/>
        <location filename="../app/hearth/ui/other_apps.py" line="95"/>
        <source>Ollama API port</source>
        <translation>Порт API Ollama</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="43"/>
        <source>Load another model of the library when an app asks for it</source>
        <translation>Загружать другую модель из библиотеки, когда её просит приложение</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="44"/>
        <source>Also when that model needs other devices</source>
        <translation>Даже если этой модели нужны другие устройства</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="51"/>
        <source>Only to a paired device that offers the same model file; the request and its answer cross the paired devices&apos; encrypted channel.</source>
        <translation>Только на сопряжённое устройство, которое предлагает тот же файл модели; запрос и ответ идут по зашифрованному каналу между сопряжёнными устройствами.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="66"/>
        <source>Show</source>
        <translation>Показать</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="71"/>
        <source>Copy key</source>
        <translation>Копировать ключ</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="73"/>
        <source>New key</source>
        <translation>Новый ключ</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="78"/>
        <source>Copy example</source>
        <translation>Копировать пример</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="80"/>
        <source>Apply</source>
        <translation>Применить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="93"/>
        <source>Port</source>
        <translation>Порт</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="96"/>
        <source>Web pages allowed (origins, comma-separated)</source>
        <translation>Разрешённые веб-страницы (источники через запятую)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="102"/>
        <source>Address</source>
        <translation>Адрес</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="65"/>
        <location filename="../app/hearth/ui/other_apps.py" line="104"/>
        <source>Key</source>
        <translation>Ключ</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="47"/>
        <source>Send apps&apos; requests to a paired device when the model here is busy</source>
        <translation>Когда модель занята, отправлять запросы на сопряжённое устройство</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="103"/>
        <source>Ollama API</source>
        <translation>API Ollama</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="105"/>
        <source>Try it</source>
        <translation>Попробовать</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="130"/>
        <location filename="../app/hearth/ui/other_apps.py" line="138"/>
        <source>Not listening: %1</source>
        <translation>Не принимает запросы: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="132"/>
        <source>%1 (this device only)</source>
        <translation>%1 (только это устройство)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="135"/>
        <location filename="../app/hearth/ui/other_apps.py" line="140"/>
        <source>Off</source>
        <translation>Выключено</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="156"/>
        <source>Saved.</source>
        <translation>Сохранено.</translation>
    </message>
</context>
<context>
    <name>PairDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="27"/>
        <source>Pair with %1</source>
        <translation>Сопряжение с %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="28"/>
        <source>Asking %1… A code appears on that device.</source>
        <translation>Запрос к %1… На том устройстве появится код.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="31"/>
        <source>6-digit code</source>
        <translation>6-значный код</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="39"/>
        <source>Pair</source>
        <translation>Сопрячь</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="56"/>
        <source>Type the code shown on %1.</source>
        <translation>Введите код, показанный на %1.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="67"/>
        <source>Checking the code…</source>
        <translation>Проверка кода…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="75"/>
        <source>Paired with %1.</source>
        <translation>Сопряжено с %1.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="81"/>
        <source>Pairing failed: %1</source>
        <translation>Сопряжение не удалось: %1</translation>
    </message>
</context>
<context>
    <name>PlannerPage</name>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="85"/>
        <source>Get a model</source>
        <translation>Выбрать модель</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="93"/>
        <source>Auto plan</source>
        <translation>Автоплан</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="95"/>
        <source>Load</source>
        <translation>Загрузить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="97"/>
        <source>Use its GGUF</source>
        <translation>Взять её GGUF</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="98"/>
        <source>The same model as GGUF, from this device&apos;s library: it pools</source>
        <translation>Та же модель в формате GGUF из библиотеки этого устройства: её можно распределить по устройствам</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="101"/>
        <source>Cancel</source>
        <translation>Отменить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="125"/>
        <location filename="../app/hearth/ui/planner_page.py" line="128"/>
        <source>Model</source>
        <translation>Модель</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="126"/>
        <location filename="../app/hearth/ui/planner_page.py" line="131"/>
        <source>Context</source>
        <translation>Контекст</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="127"/>
        <source>Layers of the model</source>
        <translation>Слои модели</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="250"/>
        <source>%1 left. The plan below uses the devices that are left: Load to go on.</source>
        <translation>%1 отключилось. План ниже использует оставшиеся устройства: нажмите «Загрузить», чтобы продолжить.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="253"/>
        <source>A faster plan with the devices that joined.</source>
        <translation>Более быстрый план с новыми устройствами.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="311"/>
        <source>No model yet: download or import one on the Models page.</source>
        <translation>Моделей пока нет: скачайте или импортируйте файл .gguf на странице «Модели».</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="317"/>
        <source>%1 layers</source>
        <translation>слоёв: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="319"/>
        <source>context %1</source>
        <translation>контекст %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="346"/>
        <source>%1 (this device)</source>
        <translation>%1 (это устройство)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="256"/>
        <source>MLX models run on this Mac alone; to pool this model over your devices, use its GGUF.</source>
        <translation>Модели MLX работают только на этом Mac; чтобы распределить модель по вашим устройствам, используйте её версию GGUF.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="383"/>
        <source>predicted %1 tokens/s</source>
        <translation>прогноз: %1 токенов/с</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="386"/>
        <source>memory as llama.cpp sizes it</source>
        <translation>память — по расчёту llama.cpp</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="389"/>
        <source>last measured %1 tokens/s</source>
        <translation>последний замер %1 токенов/с</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="393"/>
        <source>A device would run out of memory</source>
        <translation>Одному из устройств не хватит памяти</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="419"/>
        <location filename="../app/hearth/ui/planner_page.py" line="423"/>
        <source>%1 reads %2/s</source>
        <translation>%1 читает %2/с</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="421"/>
        <location filename="../app/hearth/ui/planner_page.py" line="425"/>
        <source>%1 at an assumed speed (not probed yet)</source>
        <translation>%1 с предполагаемой скоростью (ещё не измерена)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="400"/>
        <source>1 answer at a time at %1 tokens</source>
        <translation>1 ответ за раз, %1 токенов</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/planner_page.py" line="401"/>
        <source>%n answers at once at %1 tokens each</source>
        <translation>
            <numerusform>%n ответ одновременно, по %1 токенов на каждый</numerusform>
            <numerusform>%n ответа одновременно, по %1 токенов на каждый</numerusform>
            <numerusform>%n ответов одновременно, по %1 токенов на каждый</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="429"/>
        <source>%1 ms a token over the network</source>
        <translation>%1 мс на токен по сети</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="431"/>
        <source>Predicted from: %1</source>
        <translation>Прогноз исходит из: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="448"/>
        <source>%1 · shares the RAM</source>
        <translation>%1 · использует общую ОЗУ</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="449"/>
        <source>%1 · GPU memory</source>
        <translation>%1 · память GPU</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="451"/>
        <source>CPU · RAM</source>
        <translation>ЦП · ОЗУ</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="454"/>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="458"/>
        <source>%1 would need %2 but has %3: over by %4</source>
        <translation>%1 понадобится %2, а доступно %3: не хватает %4</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="239"/>
        <source>Loading…</source>
        <translation>Загрузка…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="241"/>
        <source>Loaded on %1</source>
        <translation>Загружено на %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="243"/>
        <source>Could not load: %1</source>
        <translation>Не удалось загрузить: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="245"/>
        <source>Loading cancelled</source>
        <translation>Загрузка отменена</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="45"/>
        <source>As the system</source>
        <translation>Как в системе</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="46"/>
        <source>Light</source>
        <translation>Светлая</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="47"/>
        <source>Dark</source>
        <translation>Тёмная</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="52"/>
        <source>Let paired devices use this device&apos;s compute</source>
        <translation>Разрешить сопряжённым устройствам использовать ресурсы этого устройства</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="59"/>
        <source>half of this device&apos;s memory</source>
        <translation>половина памяти этого устройства</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="63"/>
        <source>each GPU&apos;s memory less headroom</source>
        <translation>память каждого GPU за вычетом запаса</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="66"/>
        <source>all cores</source>
        <translation>все ядра</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="68"/>
        <source>When a device of the plan leaves, load the best plan over the devices left</source>
        <translation>Если устройство из плана отключится, загружать лучший план для оставшихся устройств</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="72"/>
        <source>Answer paired devices&apos; apps when their model is busy</source>
        <translation>Отвечать приложениям сопряжённых устройств, когда их модель занята</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="75"/>
        <source>With the model loaded here, when it is the file theirs is, and only into a place free at that moment: this window and this device&apos;s apps never wait behind them.</source>
        <translation>Моделью, загруженной здесь, если это тот же файл, что у них, и только на свободное в этот момент место: это окно и приложения этого устройства никогда не ждут за ними.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="82"/>
        <source>With nothing loaded here, load the same model from this library for them</source>
        <translation>Если здесь ничего не загружено, загружать для них ту же модель из этой библиотеки</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="86"/>
        <source>Only while nothing is loaded or loading here and nothing is lent to a paired device. The model takes this device&apos;s memory, and is unloaded again after 5 minutes without answers, unless this window&apos;s chat answers with it.</source>
        <translation>Только пока здесь ничего не загружено и не загружается и ничего не отдано сопряжённому устройству. Модель занимает память этого устройства и выгружается через 5 минут без ответов, если только чат этого окна не отвечал с ней.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="95"/>
        <source>Apply</source>
        <translation>Применить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="100"/>
        <source>Language</source>
        <translation>Язык</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="101"/>
        <source>Theme</source>
        <translation>Тема</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="104"/>
        <source>Memory cap</source>
        <translation>Предел памяти</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="105"/>
        <source>GPU memory cap</source>
        <translation>Предел памяти GPU</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="106"/>
        <source>Thread cap</source>
        <translation>Предел потоков</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="112"/>
        <source>Guess tokens ahead</source>
        <translation>Угадывать токены заранее</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="114"/>
        <source>As many as memory allows</source>
        <translation>Сколько позволяет память</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="120"/>
        <source>How many answers the model gives together, to this window and other apps: each one holds a context of its own in memory. Applies from the next load.</source>
        <translation>Сколько ответов модель даёт одновременно этому окну и другим приложениям: каждый держит в памяти свой контекст. Действует со следующей загрузки.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="125"/>
        <source>Answers at once</source>
        <translation>Ответов одновременно</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="159"/>
        <source>Not isolated: other accounts on this computer can reach the workers it runs for paired devices (%1).</source>
        <translation>Без изоляции: другие учётные записи на этом компьютере могут обращаться к рабочим процессам, которые он запускает для сопряжённых устройств (%1).</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="179"/>
        <source>Saved.</source>
        <translation>Сохранено.</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="40"/>
        <source>Donate compute</source>
        <translation>Отдавать ресурсы</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="41"/>
        <source>Open Hearth</source>
        <translation>Открыть Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="42"/>
        <source>Quit</source>
        <translation>Выход</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="62"/>
        <source>Not donating</source>
        <translation>Не отдаёт ресурсы</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="63"/>
        <source>Donating: ready for paired devices</source>
        <translation>Отдаёт ресурсы: готово для сопряжённых устройств</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="64"/>
        <source>Donating: a paired device is using this one</source>
        <translation>Отдаёт ресурсы: сопряжённое устройство использует это</translation>
    </message>
</context>
<context>
    <name>Welcome</name>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="37"/>
        <source>Add another device</source>
        <translation>Добавить устройство</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="39"/>
        <source>Choose a model</source>
        <translation>Выбрать модель</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="41"/>
        <source>Skip</source>
        <translation>Пропустить</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="42"/>
        <source>Hide this guide; it does not come back</source>
        <translation>Скрыть это руководство; больше оно не появится</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="58"/>
        <source>Welcome to Hearth</source>
        <translation>Добро пожаловать в Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="65"/>
        <source>Paired with %1. Choose a model: Hearth plans it over the devices you have.</source>
        <translation>Сопряжено с %1. Выберите модель: Hearth распределит её по вашим устройствам.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="72"/>
        <source>Hearth runs AI models on the computers in your home and pools them when one is not enough. Nothing you type leaves your home. Start with this device alone, or add another one first: it needs Hearth running too.</source>
        <translation>Hearth запускает ИИ-модели на компьютерах у вас дома и объединяет их, когда одного не хватает. Ничто из написанного вами не покидает дом. Начните с одного этого устройства или сначала добавьте другое: на нём тоже должен работать Hearth.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="80"/>
        <source>Pick a model on the Catalog tab: those marked &quot;fits this device&quot; run here alone, the others need paired devices. Download it, then Plan and chat.</source>
        <translation>Выберите модель на вкладке «Каталог»: модели с пометкой «помещается на этом устройстве» работают здесь без помощи, остальным нужны сопряжённые устройства. Скачайте модель, затем нажмите «Спланировать и общаться».</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="99"/>
        <source>This device: %1 · %2 free · %3</source>
        <translation>Это устройство: %1 · свободно %2 · %3</translation>
    </message>
</context>
</TS>
